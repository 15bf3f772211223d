"""Kinds the catalog reads that the YAML cannot declare (yet): every other user object by
PostgreSQL's own kind and identity (so a hand-made one is never missed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac.catalog.others import read_others
from schemac.kinds.registry import Comparison, Kind, Reading
from schemac.naming import sql_name

if TYPE_CHECKING:
    import psycopg

    from schemac.catalog.contents import CatalogModel


def _read_others(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    """Every other user object, but those a kind of the registry read with its own class."""
    from schemac.kinds import KINDS  # imported here: this module is one of theirs

    read_others(conn, out)
    found = out.of("other")
    for kind in KINDS:
        if kind.other_type is None:
            continue
        for catalog_kind in kind.comparison.catalog_kinds:
            for name, obj in out.of(catalog_kind).items():
                found.pop(f"{kind.other_type} {_identity(name, obj)}", None)


def _identity(name: str, obj: Any) -> str:
    """The object as pg_identify_object names it: its schema and name as quote_ident()
    writes them (`"app.v2"."sum.pos"(integer)`), then the rest of the key (the arguments)."""
    qname = getattr(obj, "qname", None)
    if qname is None or not name.startswith(qname.label):
        return name
    return f"{sql_name(qname.schema)}.{sql_name(qname.name)}{name[len(qname.label) :]}"


# Named "<PostgreSQL's type> <identity>": aggregates, operators, casts, rules, foreign tables...
OTHER = Kind(
    "other",
    project_wide=True,
    reader=_read_others,
    comparison=Comparison(("other",)),
)
