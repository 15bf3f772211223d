"""Work on a second core: a forked child computes one function while the parent goes on.

A compile is CPU-bound Python, so threads cannot help; a forked child inherits the loaded
project for free (copy-on-write) and hands back only its small result through a pipe. The
function prints and writes nothing, and its result is exactly what the parent would have
computed, so output does not depend on whether a child ran: if forking is unavailable or
turned off, or the child fails in any way, the parent computes the same function itself
(and a real error then surfaces in the parent, with its normal handling). Only follow-up
work (`then`, writing the file cache) writes, to files nothing else writes.

SCHEMAC_JOBS=1 turns the child off (for debugging and profiling).
"""

from __future__ import annotations

import contextlib
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


# Children that sent their result and may still finish follow-up work (writing the cache).
# Nobody waits for them: a `schemac` command exits as soon as its own work is done, and a
# child finishes writing on its own (each file atomically, so a reader sees all or nothing).
_finishing: set[int] = set()


def wait_for_children() -> None:
    """Wait until every child's follow-up work is done (tests and the benchmark, before they
    look at what the children wrote or time the next run)."""
    while _finishing:
        pid = _finishing.pop()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _reap_finished() -> None:
    for pid in list(_finishing):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _finishing.discard(pid)


class Background(Generic[T]):
    """`function()` running in a forked child; `result()` waits for it.

    `then(result)` is follow-up work whose outcome nobody waits for (writing a cache): the
    child does it after sending its result, or the parent right after computing the result
    itself. A child's result counts only if it arrives complete (it unpickles).
    """

    def __init__(
        self,
        function: Callable[[], T],
        *,
        then: Callable[[T], None] | None = None,
        fork: bool = True,
    ) -> None:
        self._function = function
        self._then = then
        self._pid = 0
        self._read_fd = -1
        if fork and can_fork():
            _reap_finished()
            self._start()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: compute, send, follow up, and leave without exit handlers
            try:
                os.close(read_fd)
                result = self._function()
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
                if self._then is not None:
                    # Follow-up work yields the cores to the compile still running, and to the
                    # next command once this process's parent has exited.
                    os.nice(19)
                    self._then(result)
            except BaseException:
                pass
            finally:
                os._exit(0)
        os.close(write_fd)
        self._pid = pid
        self._read_fd = read_fd

    def discard(self) -> None:
        """Stop waiting for the child (the parent is failing anyway)."""
        if self._pid:
            pid, self._pid = self._pid, 0
            os.close(self._read_fd)  # a child still writing gets EPIPE and exits
            _finishing.add(pid)

    def result(self) -> T:
        if self._pid:
            pid, self._pid = self._pid, 0
            with os.fdopen(self._read_fd, "rb") as pipe:
                payload = pipe.read()  # until the child closes its end: the result is complete
            _finishing.add(pid)
            _reap_finished()
            try:
                result: T = pickle.loads(payload)
            except Exception:  # the child failed before it sent everything: do it here
                pass
            else:
                return result
        result = self._function()
        if self._then is not None:
            self._then(result)
        return result
