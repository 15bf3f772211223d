"""Extensions: project-wide, created right after the roles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.types import read_extensions
from schemac.diagnostics import did_you_mean
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.node_keys import node_key

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import Document


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    data = doc.data
    for name, ext in (data.get("extensions") or {}).items():
        b.add(
            "extensions",
            u,
            m.Extension(
                name,
                ext.get("schema"),
                ext.get("version"),
                ext.get("comment"),
                data["extensions"].key_locations[name],
            ),
        )


def edges(a: Analyser, ext: m.Extension) -> set[str]:
    if ext.schema and node_key("schema", ext.schema) in a.nodes:
        return {node_key("schema", ext.schema)}
    return set()


def check(a: Analyser) -> None:
    for _, ext in a.p.extensions:
        if (
            ext.schema
            and ext.schema not in a.schemas
            and ext.schema not in ("public", "pg_catalog")
        ):
            a.error(
                "E316",
                f"extension {ext.name} goes into unknown schema '{ext.schema}'",
                ext.loc,
                hint=did_you_mean(ext.schema, a.schemas) or "declare that schema, or use public",
            )


def _nodes(ext: Any) -> tuple[tuple[str, str], ...]:
    return (("extension", node_key("extension", ext.name)),)


EXTENSION = Kind(
    "extension",
    field="extensions",
    project_wide=True,
    build=build,
    nodes=_nodes,
    located=Located("extension", ("extension",)),
    edges=edges,
    check=check,
    template="extension",
    reader=lambda conn, out, reading: read_extensions(conn, out),
    comparison=Comparison(("extension",)),
)
