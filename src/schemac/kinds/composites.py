"""Composite types (`composite_types:`): `CREATE TYPE s.t AS (a integer, b text)`.

The whole kind in one module (model class, builder, graph, checks, catalog reader and
comparison), plus its template and its JSON Schema section: what docs/architecture.md
"Adding an object kind" describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION
from schemac.catalog.queries import (
    USER_NAMESPACE,
    acl,
    acl_entries,
    comment,
    grants_of,
    not_extension_member,
    rows,
)
from schemac.diagnostics import SourceLocation
from schemac.kinds.common import one_node
from schemac.kinds.registry import Comparison, Kind, Located, Reading
from schemac.kinds.types import revokes_usage
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.sqlfields import TYPE_HINT

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.importer.context import Context
    from schemac.loader import Document, LocatedDict

SECTION = "composite_types"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    collation: str | None = None
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CompositeType:
    qname: m.QName
    attributes: tuple[Attribute, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    grants: tuple[m.Grant, ...] = ()  # USAGE (schemac.privileges)
    revoke_public: bool = False  # PUBLIC's built-in USAGE revoked


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    section: LocatedDict | None = doc.data.get(SECTION)
    for name, declared in (section or {}).items():
        attributes = []
        spec: LocatedDict = declared["attributes"]
        for attr_name, attr in spec.items():
            text = attr if isinstance(attr, str) else attr["type"]
            _check_type(b, text, spec, attr_name, f"attribute '{attr_name}' of type '{name}'")
            collation = None if isinstance(attr, str) else attr.get("collation")
            loc = spec.key_locations[attr_name]
            attributes.append(Attribute(attr_name, b.render_type(text, schema), collation, loc))
        grants = b.grants(declared.get("grants"))
        b.add(
            SECTION,
            u,
            CompositeType(
                m.QName(schema, name),
                tuple(attributes),
                declared.get("comment"),
                section.key_locations[name],  # type: ignore[union-attr]
                grants,
                revokes_usage(b, grants),
            ),
        )


def _check_type(b: Builder, text: str, spec: LocatedDict, key: str, what: str) -> None:
    """One type name, else E310 at the attribute (the text is pasted into CREATE TYPE)."""
    try:
        parse_type_name(text)
    except SqlSyntaxError as exc:
        value = spec[key]
        loc = spec.value_locations[key] if isinstance(value, str) else value.value_locations["type"]
        b.error("E310", f"{what} is not one type name: {exc.error.message}", loc, TYPE_HINT)


def edges(a: Analyser, composite: CompositeType) -> set[str]:
    deps = a.grant_dependencies(composite.grants)
    for attr in composite.attributes:
        deps |= a.type_dependency(attr.type)
    return deps


def names(a: Analyser, composite: CompositeType, claims: NameClaims) -> None:
    # A composite type is a type and a relation (relkind 'c'), as a table is a relation and
    # its row type: a clash with a table is one clash, reported once (for the relation).
    claims.claim("relations", composite.qname, "composite type", composite.loc)
    claims.claim("types", composite.qname, "composite type (its row type)", composite.loc)
    for attr in composite.attributes:
        claims.name(attr.name, attr.loc)


def types(composite: CompositeType) -> Iterator[tuple[str, SourceLocation | None, str]]:
    for attr in composite.attributes:
        yield attr.type, attr.loc, composite.qname.schema


_COMPOSITES = f"""
SELECT t.oid, n.nspname AS schema, t.typname AS name,
       ARRAY(SELECT ARRAY[a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                          CASE WHEN a.attcollation <> 0
                               AND a.attcollation IS DISTINCT FROM at.typcollation
                          THEN (SELECT co.collname FROM pg_catalog.pg_collation co
                                WHERE co.oid = a.attcollation) END]
             FROM pg_catalog.pg_attribute a
             JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS attributes,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner,
       {acl("t.typacl", "T", "t.typowner")} AS acl,
       {comment("pg_type", "t.oid")} AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND {USER_NAMESPACE}
  AND {not_extension_member("pg_type", "t.oid")}
ORDER BY n.nspname, t.typname
"""


def read(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    for row in rows(conn, _COMPOSITES):
        qname = m.QName(row["schema"], row["name"])
        attributes = tuple(Attribute(n, t, c) for n, t, c in row["attributes"])
        entries = acl_entries(row["acl"])
        composite = CompositeType(
            qname, attributes, row["comment"], CATALOG_LOCATION, grants_of(entries)
        )
        out.add("composite type", qname.label, composite, owner=row["owner"], acl=entries)


def import_yaml(ctx: Context, composite: CompositeType) -> dict[str, Any]:
    """The YAML of a composite type read from a database (`schemac import`)."""
    # Imported here: the importer walks the kinds, this module among them.
    from schemac.importer.routines import type_grants

    name = composite.qname.label
    grants = type_grants(ctx, "composite type", composite.qname)
    attributes: dict[str, Any] = {}
    for attr in composite.attributes:
        ctx.names.check(f"attribute of {name}", attr.name)
        short = attr.type
        attributes[attr.name] = (
            {"type": short, "collation": attr.collation} if attr.collation else short
        )
    out: dict[str, Any] = {"attributes": attributes}
    if composite.comment is not None:
        out["comment"] = composite.comment
    if grants:
        out["grants"] = grants
    return out


COMPOSITE_TYPE = Kind(
    "composite",
    field=SECTION,
    sections=(SECTION,),
    type_sections=(SECTION,),
    build=build,
    nodes=one_node("composite", "type"),
    located=Located("type", ("type", "composite type")),
    namespaces=("type",),
    edges=edges,
    names=names,
    types=types,
    template="composite",
    privileges=("type", frozenset({"all", "usage"})),
    reader=read,
    other_type="type",
    comparison=Comparison(
        ("composite type",),
        frozenset({"loc", "grants", "revoke_public"}),
        parts={"attributes": "attribute"},
    ),
    import_yaml=import_yaml,
)
