"""A process that has imported schemac's libraries once and forks one child per `schemac` run.

A test session runs `python -m schemac ...` some thousands of times; each new interpreter
spent 0.5 to 1.3 s of CPU importing typer, pydantic, psycopg, SQLAlchemy, migra, pglast and
schemac before doing any work, often more than the work (docs/benchmarks.md, the test
suite). tests/command_line.py starts this script once per test process and sends it one JSON
line per command; it forks, and the child becomes the command: its own process, with the
test's working folder, environment, argument list and output files, running schemac's
``__main__`` as `python -m schemac` does and leaving the way an interpreter leaves (atexit
functions, threads joined, streams flushed, the exit code). The parent answers with the
child's exit code, as ``subprocess`` reports it. Nothing one command changes reaches the
next: each starts from this process's state, which only imported modules.

Only modules are imported here; a schemac module must read the environment when it is
used, not when it is imported (a value read at import would be this process's, not the
test's).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import sys
from typing import Any

PRELOADED = (
    "typer",
    "pydantic",
    "psycopg",
    "psycopg_binary",
    "yaml",
    "jinja2",
    "jsonschema_rs",
    "pglast",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "sqlbag",
    "migra",
    "schemainspect",
    "schemac.cli",
    "schemac.compiler",
    "schemac.diff",
    "schemac.check",
    "schemac.comparison",
    "schemac.lint",
    "schemac.importer",
)


def _preload() -> None:
    for name in PRELOADED:
        # A library that is missing fails the child's own import, reported as schemac does.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _serve(requests: Any, replies: Any) -> dict[str, Any]:
    """Answer requests until the test process closes the pipe; returns only in a child."""
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            return dict(request)
        replies.write(json.dumps(_wait(pid, float(request["timeout"]))) + "\n")
        replies.flush()
    raise SystemExit(0)


def _wait(pid: int, timeout: float) -> dict[str, Any]:
    """The child's exit code as subprocess gives it (minus the signal for a killed child), or
    ``timeout`` after it is killed, as subprocess.run kills it."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        timed_out = not ready
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    return {"code": os.waitstatus_to_exitcode(status), "timeout": timed_out}


def _become(request: dict[str, Any]) -> None:
    """In the child: the command's folder, environment, streams and arguments."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = os.getcwd()  # `python -m` puts the working folder first
    sys.argv = ["-m", *request["args"]]


def main() -> None:
    # The pipes to the test process move off 0 and 1, which the children get as their own.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    _preload()
    # The children's collector leaves the imported objects alone: touching them would copy
    # every page of them into each child.
    gc.freeze()
    request = _serve(requests, replies)
    _become(request)
    import runpy

    runpy.run_module("schemac", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
