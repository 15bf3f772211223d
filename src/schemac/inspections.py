"""What is read from a template database once, kept on disk: schemainspect's inspection of it
(half of every migra run), its ``pg_dump --schema-only`` (diff's verification), and migra's
statements between two templates (the whole migra run of an unchanged pair).

A template database never changes once built: its name is a digest of what built it
(shadows.py). So what a run reads from it holds for every later run that finds the same
template, on a server of the same PostgreSQL version, with the same schemac, migra and
schemainspect (``verdict.comparison_fingerprint``). The files live under
``.schemac/cache/templates-read/``, each with the sha256 of its payload in front of it: a file
that does not check is read from the database again, never an error. ``SCHEMAC_NO_CACHE=1``
keeps nothing.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

_FOLDER = Path(".schemac") / "cache" / "templates-read"
_NO_CACHE_VARIABLE = "SCHEMAC_NO_CACHE"
_CHECKSUM_BYTES = 32
# Files kept: an inspection and a dump for each of a few templates of each kind, and migra's
# statements between a few pairs of them.
_FILES_KEPT = 16
_KINDS_KEPT = (".inspection", ".dump", ".statements")
# What an inspector holds that belongs to the connection it read with, not to the schema.
_CONNECTION_ATTRIBUTES = ("c", "engine", "dialect")


def kept_folder(project_root: Path) -> Path | None:
    """Where a project keeps what it read from templates (None when caching is off)."""
    if os.environ.get(_NO_CACHE_VARIABLE, "").strip() not in ("", "0"):
        return None
    return project_root / _FOLDER


def kept_file(folder: Path | None, server_version: int, template: str, what: str) -> Path | None:
    """The file for ``what`` ("inspection", "dump" or "statements") read from ``template`` (for
    "statements", a pair of templates) on a server of ``server_version``; None without a
    folder."""
    if folder is None:
        return None
    from schemac.verdict import comparison_fingerprint

    key = f"{comparison_fingerprint()}\0{server_version}\0{template}\0{what}"
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.{what}"


def load(path: Path | None) -> Any:
    """What was kept in ``path``, or None when there is nothing usable."""
    if path is None:
        return None
    try:
        stored = path.read_bytes()
        os.utime(path)  # recently used: kept when older files are pruned
    except OSError:
        return None
    checksum, payload = stored[:_CHECKSUM_BYTES], stored[_CHECKSUM_BYTES:]
    if hashlib.sha256(payload).digest() != checksum:
        return None
    # Unpickling builds ~10^5 objects at 1,000 tables: without the collector running over
    # them again and again it takes a third of the time (measured 1.7 s -> 0.5 s under load).
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Written by this project's own schemac, checked by its sum: not foreign input.
        return pickle.loads(payload)
    except Exception:  # an entry of another schemac's classes: read the database again
        return None
    finally:
        if collecting:
            gc.enable()


def store(path: Path | None, value: Any) -> None:
    """Keep ``value`` in ``path`` (atomically; a folder that cannot be written keeps nothing)."""
    if path is None:
        return
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_bytes(b"# schemac's cache: never committed\n*\n")
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)
        _prune(path.parent)


def _prune(folder: Path) -> None:
    files = sorted(
        (p for p in folder.iterdir() if p.suffix in _KINDS_KEPT),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in files[_FILES_KEPT:]:
        with contextlib.suppress(OSError):
            old.unlink()


T = TypeVar("T")

# Reads started ahead, by the file they are kept in (see read_ahead).
_ahead: dict[Path, Future[Any]] = {}
_ahead_lock = threading.Lock()


def read_ahead(path: Path | None, read: Callable[[], Any]) -> None:
    """Start ``read`` in a thread now unless ``path`` already keeps its result: :func:`taken`
    hands the result to whoever needs it first (diff reads shadow B while the server copies
    shadow A), who decides whether it is worth keeping in ``path``."""
    if path is None or path.exists():
        return
    with _ahead_lock:
        _ahead[path] = in_background(read)


def in_background(work: Callable[[], T]) -> Future[T]:
    """``work`` run in a daemon thread: a command that ends before it needs the result does
    not wait for it at exit (a pool's thread would be joined then)."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever takes the result
            future.set_exception(error)

    threading.Thread(target=run, name="schemac-read", daemon=True).start()
    return future


def taken(path: Path | None) -> tuple[Any, bool]:
    """What the read started ahead for ``path`` gave (waiting for it; fresh: True), else what
    ``path`` keeps (fresh: False), else None (the caller reads the database itself)."""
    if path is None:
        return None, False
    with _ahead_lock:
        future = _ahead.pop(path, None)
    if future is not None:
        try:
            value = future.result()
        except Exception:  # read again by the caller, which reports the error if it recurs
            value = None
        if value is not None:
            return value, True
    return load(path), False


def detached(inspector: Any) -> Any:
    """An inspection without its connection (what migra's comparison reads stays), as kept."""
    from schemainspect.pg import PostgreSQL

    state = {k: v for k, v in vars(inspector).items() if k not in _CONNECTION_ATTRIBUTES}
    copy = PostgreSQL.__new__(PostgreSQL)
    vars(copy).update(state)
    for attribute in _CONNECTION_ATTRIBUTES:
        setattr(copy, attribute, None)
    return copy
