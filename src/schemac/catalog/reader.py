"""A database's pg_catalog read into model objects: one query per kind, read only."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg

from schemac.catalog.contents import CatalogModel
from schemac.catalog.others import read_others
from schemac.catalog.publications import read_publications
from schemac.catalog.relations import read_relations
from schemac.catalog.routines import read_policies, read_routines, read_triggers
from schemac.catalog.types import read_extensions, read_schemas, read_sequences, read_types


def read_catalog(
    conn: psycopg.Connection[Any], *, skip_relations: Iterable[str] = ()
) -> CatalogModel:
    """Every user object of the connected database (system schemas and extension members left out).

    ``skip_relations`` are unqualified relation names schemac does not manage (Flyway's history
    table); their columns, constraints, indexes, triggers and policies are left out with them.
    Roles belong to the server, not the database: :func:`schemac.catalog.roles.read_roles`.
    """
    skipped = sorted(set(skip_relations))
    out = CatalogModel()
    with _collector_paused():
        read_extensions(conn, out)
        read_schemas(conn, out)
        read_types(conn, out)
        read_sequences(conn, out, skipped)
        relations = read_relations(conn, out, skipped)
        read_routines(conn, out)
        read_triggers(conn, out, relations)
        read_policies(conn, out, relations)
        read_publications(conn, out)
        read_others(conn, out)
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
