"""The real `schemac` command line, in a new process, running this checkout's source.

Each command runs in a process of its own, forked from tests/launcher.py, which has imported
the libraries once (most of what a new interpreter spent per command); ``new_interpreter``
starts `python -m schemac` from nothing instead, for a test about a fresh interpreter (its
own hash seed, its own imports).
"""

from __future__ import annotations

import atexit
import io
import json
import locale
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"
LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
# Set to 0, every command starts a new interpreter (to compare the two ways, or to rule the
# launcher out when a test fails).
LAUNCHER_ENV = "SCHEMAC_TEST_LAUNCHER"


def run_schemac(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    new_interpreter: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m schemac <args>` in `cwd`, as a developer runs it. SCHEMAC_DEV_URL is not
    passed on: a test that wants a server says so with --dev-url."""
    environment = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT), **(env or {})}
    environment.pop("SCHEMAC_DEV_URL", None)
    command = [sys.executable, "-m", "schemac", *args]
    # A test that changes what Python imports (PYTHONPATH, ...) gets a new interpreter.
    same_imports = all(
        environment.get(key) == _launcher_environment().get(key)
        for key in {*environment, *_launcher_environment()}
        if key.startswith("PYTHON")
    )
    if new_interpreter or not same_imports or os.environ.get(LAUNCHER_ENV) == "0":
        return subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    return _launched(command, cwd, environment, timeout)


def _launcher_environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}


class _Launcher:
    """The test process's one launcher, started at the first command."""

    lock = threading.Lock()
    process: subprocess.Popen[str] | None = None

    @classmethod
    def ask(cls, request: dict[str, object]) -> dict[str, object]:
        with cls.lock:
            if cls.process is None or cls.process.poll() is not None:
                cls.process = subprocess.Popen(
                    [sys.executable, str(LAUNCHER)],
                    env=_launcher_environment(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                )
                atexit.register(cls.stop, cls.process)
            assert cls.process.stdin is not None and cls.process.stdout is not None
            cls.process.stdin.write(json.dumps(request) + "\n")
            cls.process.stdin.flush()
            reply = cls.process.stdout.readline()
            if not reply:
                raise RuntimeError(f"tests/launcher.py ended (exit {cls.process.wait()})")
            return dict(json.loads(reply))

    @staticmethod
    def stop(process: subprocess.Popen[str]) -> None:
        """At the session's end: the launcher sees its input end and leaves."""
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _launched(
    command: list[str], cwd: Path, environment: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="schemac-run-") as folder:
        stdout, stderr = Path(folder) / "stdout", Path(folder) / "stderr"
        reply = _Launcher.ask(
            {
                "args": command[3:],
                "cwd": str(cwd),
                "env": environment,
                "stdout": str(stdout),
                "stderr": str(stderr),
                "timeout": timeout,
            }
        )
        out, err = _text(stdout), _text(stderr)
    if reply["timeout"]:
        raise subprocess.TimeoutExpired(command, timeout, out, err)
    return subprocess.CompletedProcess(command, int(reply["code"]), out, err)  # type: ignore[call-overload]


def _text(path: Path) -> str:
    """What the command wrote, decoded as subprocess's text mode does (universal newlines)."""
    data = path.read_bytes() if path.exists() else b""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()
