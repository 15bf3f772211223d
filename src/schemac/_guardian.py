"""The small process that outlives nothing it should: it stops a shadow PostgreSQL server.

Run as a script, never imported by schemac itself (``python -I -S _guardian.py MODE ...``):
standard library only, so it starts in a few milliseconds and needs no installed package.

``owner ROOT DATA_DIR``: a throwaway server. Waits for its stdin (a pipe whose only writer is
the schemac process) to reach end-of-file, which the kernel delivers however schemac ends
(exit, exception, Ctrl-C, SIGTERM, SIGKILL); then stops the postmaster that still runs on
DATA_DIR and removes ROOT. After an orderly shutdown it finds nothing left to do.

``idle FOLDER DATA_DIR PID TIMEOUT AT_IDLE``: a warm server. Every so often it looks at how long ago a
schemac command last used the server (the modification time of FOLDER/last-used); once that
is more than TIMEOUT seconds and no command holds the server (FOLDER/use.lock, taken shared by
every user, and FOLDER/start.lock), it stops the postmaster and exits. With AT_IDLE ``keep``
the data stays, so the next command restarts the server on it; with ``remove`` (data in a
memory folder, schemac.memory_folder) the data directory's folder is removed, to give its
memory back. It also exits when the postmaster is gone or
FOLDER/server.json names another one (the server was replaced). When FOLDER itself is gone
(the project was deleted, e.g. a temporary one) nobody can find the server again: it stops it
at once and removes the data directory's folder, which may lie outside the project.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie counts as gone (PID 1 in containers may never reap)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
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


def runs_on(pid: int, data_dir: str) -> bool:
    """Whether ``pid`` is a postmaster of ``data_dir`` (and not a process that reused its id)."""
    if not alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return data_dir.encode() in cmdline.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True


def postmaster_pid(data_dir: str) -> int:
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as pid_file:
            return int(pid_file.readline())
    except (OSError, ValueError):
        return 0


def stop_postmaster(pid: int, data_dir: str, first: signal.Signals = signal.SIGINT) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL, each given a few seconds."""
    for sig in (first, signal.SIGQUIT, signal.SIGKILL):
        if not runs_on(pid, data_dir):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def guard_owner(root: str, data_dir: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while os.read(0, 4096):
        pass
    pid = postmaster_pid(data_dir)
    if pid > 0:
        stop_postmaster(pid, data_dir, signal.SIGQUIT)
    shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def try_lock(path: str) -> Iterator[bool]:
    """An exclusive lock on ``path`` if nobody holds it now (True), else nothing (False)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def idle_seconds(folder: str) -> float:
    try:
        return time.time() - os.stat(os.path.join(folder, "last-used")).st_mtime
    except FileNotFoundError:
        return float("inf")


def recorded_pid(folder: str) -> int:
    try:
        with open(os.path.join(folder, "server.json")) as state:
            return int(json.load(state).get("pid", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def guard_idle(folder: str, data_dir: str, pid: int, timeout: float, remove_data: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    poll = min(max(timeout / 4, 0.1), 30.0)
    while True:
        time.sleep(poll)
        if not runs_on(pid, data_dir):
            return
        if not os.path.isdir(folder):
            stop_postmaster(pid, data_dir)
            shutil.rmtree(os.path.dirname(data_dir), ignore_errors=True)
            return
        if recorded_pid(folder) != pid:
            return
        if idle_seconds(folder) < timeout:
            continue
        # start.lock first, as every schemac command takes them: no deadlock, and no command
        # can be between "the server is healthy" and "I use it" while this one stops it.
        with try_lock(os.path.join(folder, "start.lock")) as starting_free:
            if not starting_free:
                continue
            with try_lock(os.path.join(folder, "use.lock")) as unused:
                if unused and idle_seconds(folder) >= timeout:
                    stop_postmaster(pid, data_dir)
                    if remove_data:
                        shutil.rmtree(os.path.dirname(data_dir), ignore_errors=True)
                    return


def main(arguments: list[str]) -> None:
    mode, *rest = arguments
    if mode == "owner":
        guard_owner(rest[0], rest[1])
    elif mode == "idle":
        guard_idle(rest[0], rest[1], int(rest[2]), float(rest[3]), rest[4] == "remove")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
