"""PostgreSQL clusters schemac runs itself: initdb, pg_ctl on 127.0.0.1, and clean-up.

Which binaries is server_binaries.py's choice. PostgreSQL refuses to run as root, so when
schemac runs as root the server runs as an unprivileged system user (service_account.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from schemac.errors import EnvironmentFailure
from schemac.memory_folder import memory_folder
from schemac.service_account import ServiceAccount, grant_read_access

SUPERUSER = "postgres"
GUARDIAN_SCRIPT = Path(__file__).with_name("_guardian.py")

_START_TIMEOUT_SECONDS = 60
_STOP_TIMEOUT_SECONDS = 10
_LOG_TAIL_LINES = 25
_PORT_ATTEMPTS = 3
# A shadow holds nothing worth keeping, so durability is traded for speed. JIT compiles
# the large catalog queries of migra's inspection for longer than they run (about 0.5 s of
# a 1.5 s migra run on the platform, measured here).
DEV_URL_ENV = "SCHEMAC_DEV_URL"  # a server for shadow databases instead of an embedded one
SERVER_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "jit=off")


# -- processes ------------------------------------------------------------------------------------


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie counts as gone (PID 1 in containers may never reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def runs_on(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a postmaster of ``data_dir`` (not a process that reused its id)."""
    if pid <= 0 or not process_alive(pid):
        return False
    try:
        return str(data_dir).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True


def wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


# -- a cluster ------------------------------------------------------------------------------------


class Cluster:
    """A data directory in ``root`` and the postmaster serving it on 127.0.0.1."""

    def __init__(self, bin_dir: Path, root: Path, *, unix_socket: bool = True) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data_dir = root / "data"
        self.log_path = root / "server.log"
        self.account = ServiceAccount.for_current_process()
        # A deep project folder would make the socket path too long: warm servers use TCP only.
        self.unix_socket = unix_socket
        self.port = 0
        self.postmaster_pid = 0

    def prepare(self) -> None:
        """Let the service account (when root) own ``root`` and read the binaries."""
        if self.account is not None:
            self.account.give(self.root)
            grant_read_access(self.bin_dir.parent)

    def initdb(self, password: str) -> None:
        # The C.UTF-8 locale is built into glibc, so it exists on every Linux; elsewhere use C.
        locale = "C.UTF-8" if sys.platform.startswith("linux") else "C"
        password_file = self.root / "superuser-password"
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n", encoding="utf-8")
        if self.account is not None:
            self.account.give(password_file)
        try:
            returncode, output = self.run_tool(
                "initdb", "-D", str(self.data_dir), "--auth=scram-sha-256",
                f"--pwfile={password_file}", "--encoding=UTF8", f"--locale={locale}",
                f"--username={SUPERUSER}", "--no-sync", "--no-instructions",
            )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)
        if returncode != 0:
            raise EnvironmentFailure(
                f"initdb ({self.bin_dir}) failed with exit code {returncode}:\n{output.strip()}"
            )

    def start(self) -> None:
        """Start the postmaster on a free port; the log's tail explains a failure."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = free_tcp_port()
            if self._pg_ctl_start():
                break
            # Another process may take the port between probing and binding it.
            if attempt == _PORT_ATTEMPTS or "could not bind" not in tail(self.log_path):
                raise EnvironmentFailure(
                    f"the PostgreSQL server ({self.bin_dir}) did not start; "
                    f"server log ({self.log_path}), last lines:\n{tail(self.log_path)}"
                )
        self.postmaster_pid = self.read_postmaster_pid()

    def stop(self) -> None:
        """Stop the postmaster if it runs (pg_ctl, then signals); the files stay."""
        pid = self.postmaster_pid or self.read_postmaster_pid()
        if not runs_on(pid, self.data_dir):
            return
        with contextlib.suppress(EnvironmentFailure):  # then it is killed below
            self.run_tool(
                "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w",
                "-t", str(_STOP_TIMEOUT_SECONDS),
            )  # fmt: skip
        if wait_until_gone(pid, 2):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if wait_until_gone(pid, _STOP_TIMEOUT_SECONDS):
                return

    def data_major(self) -> int | None:
        """The major version the data directory was made by (None: no usable data directory)."""
        try:
            return int((self.data_dir / "PG_VERSION").read_text().strip())
        except (OSError, ValueError):
            return None

    def read_postmaster_pid(self) -> int:
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first_line)
        except (OSError, ValueError):
            return 0

    def _pg_ctl_start(self) -> bool:
        socket_dir = shlex.quote(str(self.root)) if self.unix_socket else "''"
        server_options = [
            "-h", "127.0.0.1", "-p", str(self.port), "-k", socket_dir,
            *(option for setting in SERVER_SETTINGS for option in ("-c", setting)),
        ]  # fmt: skip
        returncode, _output = self.run_tool(
            "pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_path), "-w",
            "-t", str(_START_TIMEOUT_SECONDS), "-o", " ".join(server_options),
        )  # fmt: skip
        return returncode == 0

    def run_tool(self, tool: str, *args: str) -> tuple[int, str]:
        """Run a PostgreSQL program (as the service account when root); return code and output."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        environment["LC_ALL"] = "C"  # readable, English messages for the error report
        options = self.account.subprocess_options() if self.account else {}
        # Output goes to a file, not a pipe: a pipe inherited by a long-lived child could
        # keep the read from ever finishing.
        with tempfile.TemporaryFile() as output:
            try:
                completed = subprocess.run(
                    [str(self.bin_dir / tool), *args],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                    cwd=self.root, env=environment, check=False,
                    timeout=_START_TIMEOUT_SECONDS + 30, **options,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as error:
                raise EnvironmentFailure(
                    f"could not run {tool} ({self.bin_dir}): {error}"
                ) from None
            output.seek(0)
            return completed.returncode, output.read().decode(errors="replace")


def start_guardian(*arguments: str, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """The guardian script (schemac/_guardian.py) in a process and session of its own."""
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", str(GUARDIAN_SCRIPT), *arguments],
            stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd="/", start_new_session=True,
        )  # fmt: skip
    except OSError as error:
        raise EnvironmentFailure(
            f"could not start the process that guards the shadow server: {error}"
        ) from None


class ThrowawayCluster(Cluster):
    """A cluster in a temporary folder, removed on stop, or by its guardian if schemac dies."""

    def __init__(self, bin_dir: Path) -> None:
        memory = memory_folder(ServiceAccount.for_current_process())
        super().__init__(bin_dir, Path(tempfile.mkdtemp(prefix="schemac-pg-", dir=memory)))
        # The server listens on 127.0.0.1, where any local user could connect: every
        # connection needs this password (SCRAM), which only this process knows.
        self.password = secrets.token_urlsafe(24)
        self._guardian: subprocess.Popen[bytes] | None = None
        self._guardian_pipe = -1
        self._stopped = False

    def start(self) -> None:
        read_end, write_end = os.pipe()
        try:
            self._guardian = start_guardian(
                "owner", str(self.root), str(self.data_dir), stdin=read_end
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._guardian_pipe = write_end
        self.prepare()
        self.initdb(self.password)
        super().start()

    def stop(self) -> None:
        """Stop the server and remove its files; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        try:
            super().stop()
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            if self._guardian_pipe >= 0:
                os.close(self._guardian_pipe)
                self._guardian_pipe = -1
            if self._guardian is not None:
                try:
                    self._guardian.wait(timeout=_STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self._guardian.kill()
                    self._guardian.wait()
                self._guardian = None
