"""All-or-nothing writes of generated/ and the project lock.

A compile or diff never changes generated/ file by file. It builds the next generated/ in a
staging folder (hard links to the files that stay, new files for the rest, integrity.json
last) and swaps the two folders in one rename (Linux renameat2 RENAME_EXCHANGE), so a kill
at any moment leaves either the old or the new generated/, never a migration without its
record. Where the exchange is not available, the old folder is moved aside first and a
marker says so; the next run finishes the move before it reads anything.

One schemac at a time may write: an fcntl lock on .schemac/lock, whose content names the
holder (pid and command) for the message a second one prints.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from schemac.errors import EnvironmentFailure, UsageError

STATE_DIR = ".schemac"
LOCK_FILE = "lock"
STAGING_DIR = "staging"
_NEXT = "next"  # the generated/ being built
_PREVIOUS = "previous"  # the generated/ swapped out, deleted once the swap is done
_MOVED_ASIDE = "moved-aside"  # marker: generated/ was moved to previous, next not yet in place
LOCK_WAIT_ENV = "SCHEMAC_LOCK_WAIT"  # seconds to wait for the lock (30), read when it is taken
_RENAME_EXCHANGE = 2


class LockBusy(EnvironmentFailure):
    """Another schemac holds the project lock."""


def _state_dir(root: Path) -> Path:
    folder = root / STATE_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# schemac's working files: never committed\n*\n", encoding="utf-8")
    return folder


@contextlib.contextmanager
def project_lock(root: Path, command: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the project's write lock; wait up to `wait_seconds` for another holder, then fail
    naming it."""
    wait = float(os.environ.get(LOCK_WAIT_ENV, "30")) if wait_seconds is None else wait_seconds
    try:
        path = _state_dir(root) / LOCK_FILE
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot create the lock file {root / STATE_DIR / LOCK_FILE}: {exc.strerror or exc}"
        ) from exc
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(descriptor)
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"another schemac is writing this project ({holder}); it holds "
                        f"{path}. Wait for it to finish and run this again"
                    ) from None
                if not told:
                    print(f"schemac: waiting for {holder} to finish ...", file=sys.stderr)
                    told = True
                time.sleep(0.05)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}, command `{command}`\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
        os.close(descriptor)  # closing releases the lock


def _holder(descriptor: int) -> str:
    try:
        text = os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not said who it is yet"


def _fallback_staging(generated: Path) -> Path:
    return generated.parent / f".{generated.name}.staging"


def _staging(root: Path, generated: Path) -> Path:
    """.schemac/staging, or beside generated/ where .schemac/ cannot be a folder (the same
    file system either way, so the swap is a rename)."""
    try:
        return _state_dir(root) / STAGING_DIR
    except OSError:
        return _fallback_staging(generated)


def recover(root: Path, generated: Path) -> str | None:
    """Finish or undo a swap a killed run left behind; a note of what was done, if anything."""
    note = None
    if generated.is_symlink():
        generated = generated.resolve()
    for staging in (root / STATE_DIR / STAGING_DIR, _fallback_staging(generated)):
        if not staging.is_dir():
            continue
        if (staging / _MOVED_ASIDE).exists() and not generated.exists():
            # Killed between the two renames of the fallback: the next generated/ is complete.
            os.rename(staging / _NEXT, generated)
            note = f"finished an interrupted write of {generated.name}/"
        shutil.rmtree(staging, ignore_errors=True)
    return note


def _mirror(source: Path, target: Path) -> None:
    """A copy of `source` in `target` made of hard links (copies where links cannot be made)."""
    target.mkdir(parents=True)
    shutil.copymode(source, target)
    for entry in sorted(source.iterdir()):
        destination = target / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), destination)
        elif entry.is_dir():
            _mirror(entry, destination)
        else:
            try:
                os.link(entry, destination)
            except OSError:
                shutil.copy2(entry, destination)


def _write_new(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a hard link to the old file: never write through it
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)


def _fsync_tree(folder: Path) -> None:
    for directory, _, _ in os.walk(folder):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def commit(
    root: Path, generated: Path, files: dict[str, str], removed: list[str], mode: int
) -> None:
    """Make generated/ hold `files` (relative path -> text; integrity.json written last) and
    no longer hold `removed`, in one step. OSError when the disk or permissions refuse."""
    if not files and not removed:
        return
    if generated.is_symlink():  # swap the folder it points at, not the link
        generated = generated.resolve()
        staging = _fallback_staging(generated)
    else:
        staging = _staging(root, generated)
    shutil.rmtree(staging, ignore_errors=True)
    next_dir = staging / _NEXT
    try:
        staging.mkdir()
        if generated.is_dir():
            _mirror(generated, next_dir)
        else:
            next_dir.mkdir()
        for relative in removed:
            with contextlib.suppress(FileNotFoundError):
                (next_dir / relative).unlink()
        ordered = sorted(files, key=lambda name: name == "integrity.json")
        for relative in ordered:
            _write_new(next_dir / relative, files[relative], mode)
        _fsync_tree(next_dir)
    except BaseException:  # a full disk, a kill signal turned exception: generated/ untouched
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not generated.exists():
        os.rename(next_dir, generated)
    elif not _exchange(next_dir, generated):
        (staging / _MOVED_ASIDE).touch()
        os.rename(generated, staging / _PREVIOUS)
        os.rename(next_dir, generated)
    _fsync_parent(generated)
    shutil.rmtree(staging, ignore_errors=True)


def _fsync_parent(path: Path) -> None:
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def check_writable_target(generated: Path) -> None:
    """generated/ must be a folder (or not exist yet)."""
    if generated.exists() and not generated.is_dir():
        raise UsageError(
            f"{generated} is a file, but schemac writes a folder there: move the file away "
            "(or set generated_dir in schemac.yaml)"
        )
