"""Schemas: one per file or folder of schema/; the folder's files add up to one schema."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.types import read_schemas
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.node_keys import node_key
from schemac.privileges import revokes_public_default
from schemac.validate import locate

PUBLIC_SCHEMA = "public"

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    data = doc.data
    declared = m.Schema(
        schema,
        data.get("owner"),
        data.get("comment"),
        b.grants(data.get("grants")),
        locate(doc, ["schema"]),
    )
    schemas = b.out["schemas"]
    for i, (unit, existing) in enumerate(schemas):
        if existing.name == declared.name:
            schemas[i] = (unit, _with_public_usage(b, _merged(b, existing, declared, doc)))
            return
    schemas.append((u, _with_public_usage(b, declared)))


def _with_public_usage(b: Builder, schema: m.Schema) -> m.Schema:
    """The public schema comes with USAGE for PUBLIC (PostgreSQL 15+; CREATE too before 15):
    `grants: {public: []}` on it revokes that, as on a type (schemac.privileges)."""
    if schema.name != PUBLIC_SCHEMA:
        return schema
    revoke = revokes_public_default(
        schema.grants, "usage", definer=False, settings=b.settings.privileges
    )
    return replace(schema, revoke_public=revoke)


def _merged(b: Builder, existing: m.Schema, declared: m.Schema, doc: Document) -> m.Schema:
    """The files of a folder all name one schema: its owner and comment are said once, grants add up."""
    for key in ("owner", "comment"):
        if getattr(existing, key) is not None and getattr(declared, key) is not None:
            b.error(
                "E301",
                f"the {key} of schema '{declared.name}' is also set in {existing.loc.path.name}",
                locate(doc, [key]),
                hint="say it in one file of the folder",
            )
    return m.Schema(
        existing.name,
        existing.owner or declared.owner,
        existing.comment or declared.comment,
        b.grants(*({g.role: m.grant_items(g)} for g in (*existing.grants, *declared.grants))),
        existing.loc,
    )


def edges(a: Analyser, schema: m.Schema) -> set[str]:
    deps = a.role_dependency(schema.owner) if schema.owner else set()
    return deps | a.grant_dependencies(schema.grants)


def names(a: Analyser, schema: m.Schema, claims: NameClaims) -> None:
    claims.name(schema.name, schema.loc)


def check(a: Analyser) -> None:
    for _, schema in a.p.schemas:
        if schema.owner:
            a.check_role(schema.owner, schema.loc)


def _nodes(schema: Any) -> tuple[tuple[str, str], ...]:
    return (("schema", node_key("schema", schema.name)),)


SCHEMA = Kind(
    "schema",
    field="schemas",
    sections=("grants", "comment", "owner"),
    build=build,
    nodes=_nodes,
    located=Located("schema", ("schema",)),
    edges=edges,
    check=check,
    names=names,
    template="schema",
    privileges=("schema", frozenset({"all", "usage", "create"})),
    reader=lambda conn, out, reading: read_schemas(conn, out),
    comparison=Comparison(("schema",), frozenset({"loc", "grants", "revoke_public"})),
)
