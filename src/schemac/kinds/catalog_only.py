"""Kinds the catalog reads that the YAML cannot declare (yet): publications, and every other
user object by PostgreSQL's own kind and identity (so a hand-made one is never missed)."""

from __future__ import annotations

from schemac.catalog.others import read_others
from schemac.catalog.publications import read_publications
from schemac.kinds.registry import Comparison, Kind

PUBLICATION = Kind(
    "publication",
    project_wide=True,
    reader=lambda conn, out, reading: read_publications(conn, out),
    comparison=Comparison(("publication",)),
)

# Named "<PostgreSQL's type> <identity>": aggregates, operators, casts, rules, foreign tables...
OTHER = Kind(
    "other",
    project_wide=True,
    reader=lambda conn, out, reading: read_others(conn, out),
    comparison=Comparison(("other",)),
)
