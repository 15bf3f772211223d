"""Work on a second core: a forked child computes one function while the parent goes on.

A compile is CPU-bound Python, so threads cannot help; a forked child inherits the loaded
project for free (copy-on-write) and hands back only its small result through a pipe. The
child never writes files or prints, and its result is exactly what the parent would have
computed, so output does not depend on whether a child ran: if forking is unavailable or
turned off, or the child fails in any way, the parent computes the same function itself
(and a real error then surfaces in the parent, with its normal handling).

SCHEMAC_JOBS=1 turns the child off (for debugging and profiling).
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_JOBS_VARIABLE = "SCHEMAC_JOBS"


def can_fork() -> bool:
    """Fork only where it is safe and useful: Linux (macOS system libraries are not fork-safe),
    a single thread (a lock held by another thread would stay locked in the child), more than
    one core, and not turned off."""
    if os.environ.get(_JOBS_VARIABLE, "").strip() == "1":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() != 1:
        return False
    return (os.cpu_count() or 1) > 1


class Background(Generic[T]):
    """`function()` running in a forked child; `result()` waits for it."""

    def __init__(self, function: Callable[[], T], *, fork: bool = True) -> None:
        self._function = function
        self._pid = 0
        self._read_fd = -1
        if fork and can_fork():
            self._start()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: compute, send, and leave without running any exit handler
            status = 1
            try:
                os.close(read_fd)
                payload = pickle.dumps(self._function(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(payload)
                status = 0
            except BaseException:
                pass
            finally:
                os._exit(status)
        os.close(write_fd)
        self._pid = pid
        self._read_fd = read_fd

    def discard(self) -> None:
        """Stop waiting for the child (the parent is failing anyway): close the pipe, reap it."""
        if self._pid:
            pid, self._pid = self._pid, 0
            os.close(self._read_fd)  # a child still writing gets EPIPE and exits
            os.waitpid(pid, 0)

    def result(self) -> T:
        if self._pid:
            pid, self._pid = self._pid, 0
            with os.fdopen(self._read_fd, "rb") as pipe:
                payload = pipe.read()
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0 and payload:
                result: T = pickle.loads(payload)
                return result
        return self._function()  # no child, or it failed: the same work, here
