"""Scratch copies of template databases, and copies made ahead of the step that takes them.

At 1,000 tables a copy of shadow A is ~80 MB of files the server copies: diff's work copy and
its verification copy are started while the server still builds shadow B (or, by
schemac.diff_ahead, while the YAML still compiles) and taken by :func:`clone` when needed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from schemac.errors import EnvironmentFailure, SchemacError
from schemac.shadow import PostgresServer

# Clones of shadow A diff makes ahead: its work copy and its verification copy.
CLONES_AHEAD = 2
# Keyed by the server's URL, not its object: diff's clones made before the YAML compiled
# (schemac.diff_ahead) are taken through the server object opened after.
_ahead: dict[tuple[str, str], list[Future[str]]] = {}
_ahead_lock = threading.Lock()


def _server_key(server: PostgresServer) -> str:
    return server.url(server.maintenance_database)


def clone_ahead(server: PostgresServer, template: str, count: int) -> None:
    """Start making clones of ``template`` now, up to ``count`` not yet taken (see clone)."""
    with _ahead_lock:
        futures = _ahead.setdefault((_server_key(server), template), [])
        missing = count - len(futures)
        if missing <= 0:
            return
        pool = ThreadPoolExecutor(missing, thread_name_prefix="schemac-clone")
        futures += [pool.submit(server.create_database, template=template) for _ in range(missing)]
    pool.shutdown(wait=False)


def _take_ahead(server: PostgresServer, template: str) -> str | None:
    with _ahead_lock:
        futures = _ahead.get((_server_key(server), template))
        future = futures.pop(0) if futures else None
    try:
        return future.result() if future is not None else None
    except SchemacError:  # made the usual way instead, which reports the error if it recurs
        return None


def drop_clones_ahead(server: PostgresServer) -> None:
    """Drop the clones made ahead on ``server`` that nobody took (a diff that ended early)."""
    with _ahead_lock:
        keys = [key for key in _ahead if key[0] == _server_key(server)]
        futures = [future for key in keys for future in _ahead.pop(key)]
    for future in futures:
        with contextlib.suppress(SchemacError):
            server.drop_database(future.result())


@contextlib.contextmanager
def clone(server: PostgresServer, template: str) -> Iterator[str]:
    """A scratch copy of a template database; yields its URL and drops it afterwards."""
    name = _take_ahead(server, template) or server.create_database(template=template)
    try:
        yield server.url(name)
    finally:
        with contextlib.suppress(EnvironmentFailure):
            server.drop_database(name)
