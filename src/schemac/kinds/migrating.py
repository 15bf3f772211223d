"""Migrations of the kinds migra does not diff (range types, aggregates, publications).

Each such kind declares `Kind.migrate`: from its objects read on the current and the desired
database (its own catalog reader), the statements that make one like the other. `schemac diff`
runs them on the work database before migra, so migra sees these objects equal (and leaves the
functions a range type brings alone); the verification after the diff (pg_dump equal, then
`compare_models`) proves the result. Comments are left to the supplements (facts.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from schemac.catalog.contents import CatalogModel
    from schemac.kinds.registry import Kind


def read_kind(conn: psycopg.Connection[Any], kind: Kind) -> dict[str, Any]:
    """The kind's objects on one database, by catalog name."""
    from schemac.catalog.contents import CatalogModel
    from schemac.kinds.registry import Reading

    assert kind.reader is not None
    model = CatalogModel()
    kind.reader(conn, model, Reading([]))
    return {
        name: obj
        for catalog in kind.comparison.catalog_kinds
        for name, obj in model.of(catalog).items()
    }


def render_create(kind: Kind, obj: Any) -> str:
    """The kind's template for an object read from a catalog, without its comment and grants
    (the supplements write both, from the facts: privileges exactly as the catalog has them)."""
    from schemac.render import Renderer, make_environment

    return Renderer(make_environment()).render_object(kind.name, _plain(obj)).strip()


def _plain(obj: Any) -> Any:
    """The object without what the supplements migrate (its comment and grants)."""
    plain = dataclasses.replace(obj, comment=None)
    if any(f.name == "grants" for f in dataclasses.fields(obj)):
        plain = dataclasses.replace(plain, grants=())
    return plain


def drop_and_create(
    current: dict[str, Any],
    desired: dict[str, Any],
    kind: Kind,
    drop: Callable[[Any], str],
) -> list[str]:
    """DROP for what the YAML no longer has or has changed, then CREATE for what is new or
    changed; an object that differs only in its comment or grants is left to the supplements."""
    changed = [
        name
        for name in sorted(current.keys() & desired.keys())
        if _plain(current[name]) != _plain(desired[name])
    ]
    drops = [drop(current[n]) for n in sorted(current.keys() - desired.keys()) + changed]
    creates = [
        render_create(kind, desired[n]) for n in changed + sorted(desired.keys() - current.keys())
    ]
    return drops + creates


def kind_statements(
    work: psycopg.Connection[Any],
    desired: psycopg.Connection[Any],
    kinds: tuple[Kind, ...],
    *,
    after_migra: bool = False,
) -> list[str]:
    """Every kind's statements, each run on `work` at once (later kinds may use earlier ones):
    those run before migra's, or (`after_migra`) those that need the tables migra creates."""
    applied: list[str] = []
    for kind in kinds:
        if kind.migrate is None or kind.migrate_after_migra != after_migra:
            continue
        for statement in kind.migrate(work, desired):
            work.execute(statement)
            applied.append(statement)
    return applied


__all__ = ["CatalogModel", "drop_and_create", "kind_statements", "read_kind", "render_create"]
