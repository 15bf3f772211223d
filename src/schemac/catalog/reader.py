"""A database's pg_catalog read into model objects: one query per kind, read only."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg

from schemac.catalog.contents import CatalogModel


def read_catalog(
    conn: psycopg.Connection[Any], *, skip_relations: Iterable[str] = ()
) -> CatalogModel:
    """Every user object of the connected database (system schemas and extension members left out).

    ``skip_relations`` are unqualified relation names schemac does not manage (Flyway's history
    table); their columns, constraints, indexes, triggers and policies are left out with them.
    Roles belong to the server, not the database: :func:`schemac.catalog.roles.read_roles`.
    """
    # Imported here: the kinds import this package's readers.
    from schemac import kinds

    reading = kinds.Reading(sorted(set(skip_relations)))
    out = CatalogModel()
    with _collector_paused():
        for kind in kinds.KINDS:  # each kind's reader, in creation order
            if kind.reader is not None:
                kind.reader(conn, out, reading)
    return out


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Everything read lives until the comparison ends: the cyclic collector only costs time
    here (a quarter of the reading time at 1,000 tables)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
