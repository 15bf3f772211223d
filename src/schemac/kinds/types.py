"""Enums and domains: the types a schema declares (they share the schema's type namespace)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from schemac import model as m
from schemac.catalog.types import read_types
from schemac.diagnostics import SourceLocation
from schemac.kinds.common import imported_by, one_node, sql_value
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import too_long
from schemac.privileges import revokes_public_default
from schemac.sqlfields import items

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document, LocatedDict
    from schemac.sqlfields import FieldChecker


def build_enums(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    data = doc.data
    for name, enum in (data.get("enums") or {}).items():
        values = enum if isinstance(enum, list) else enum["values"]
        comment = None if isinstance(enum, list) else enum.get("comment")
        grants = b.grants(None if isinstance(enum, list) else enum.get("grants"))
        b.add(
            "enums",
            u,
            m.Enum(
                m.QName(schema, name),
                tuple(str(v) for v in values),
                comment,
                data["enums"].key_locations[name],
                grants,
                revokes_usage(b, grants),
            ),
        )


def revokes_usage(b: Builder, grants: tuple[m.Grant, ...]) -> bool:
    """Whether a type's `grants:` revoke PUBLIC's built-in USAGE (enums, domains, composite
    and range types)."""
    return revokes_public_default(grants, "usage", definer=False, settings=b.settings.privileges)


def enum_names(a: Analyser, enum: m.Enum, claims: NameClaims) -> None:
    claims.claim("types", enum.qname, "enum", enum.loc)
    for value in enum.values:
        if too_long(value):
            a.error("E304", f"enum value '{value[:20]}...' is longer than 63 bytes", enum.loc)


def build_domains(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    data = doc.data
    for name, dom in (data.get("domains") or {}).items():
        grants = b.grants(dom.get("grants"))
        b.add(
            "domains",
            u,
            m.Domain(
                m.QName(schema, name),
                b.render_type(dom["type"], schema),
                bool(dom.get("not_null", False)),
                sql_value(dom.get("default")),
                dom.get("collation"),
                tuple((k, v) for k, v in (dom.get("checks") or {}).items()),
                dom.get("comment"),
                data["domains"].key_locations[name],
                grants,
                revokes_usage(b, grants),
            ),
        )


def domain_fields(checker: FieldChecker, data: LocatedDict) -> None:
    for name, domain in items(data.get("domains")):
        checker.type(domain, "type", f"the type of domain '{name}'")
        checker.sql(domain, "default", f"the default of domain '{name}'")
        for check_name, _ in items(domain.get("checks"), dicts_only=False):
            checker.sql(domain["checks"], check_name, f"check '{check_name}' of domain '{name}'")


def domain_edges(a: Analyser, dom: m.Domain) -> set[str]:
    return (
        set(a.type_dependency(dom.type))
        | a.sql_dependencies(dom.default, *(c for _, c in dom.checks))
        | a.grant_dependencies(dom.grants)
    )


def enum_edges(a: Analyser, enum: m.Enum) -> set[str]:
    return a.grant_dependencies(enum.grants)


def domain_names(a: Analyser, dom: m.Domain, claims: NameClaims) -> None:
    claims.claim("types", dom.qname, "domain", dom.loc)


def domain_types(dom: m.Domain) -> Iterator[tuple[str, SourceLocation | None, str]]:
    yield dom.type, dom.loc, dom.qname.schema


ENUM = Kind(
    "enum",
    field="enums",
    sections=("enums",),
    type_sections=("enums",),
    build=build_enums,
    nodes=one_node("enum", "type"),
    located=Located("type", ("type", "enum")),
    namespaces=("type",),
    edges=enum_edges,
    names=enum_names,
    template="enum",
    privileges=("type", frozenset({"all", "usage"})),
    reader=lambda conn, out, reading: read_types(conn, out),  # enums and domains, one query
    comparison=Comparison(("enum",), frozenset({"loc", "grants", "revoke_public"})),
    import_yaml=imported_by("schemac.importer.routines", "enum_yaml"),
)

DOMAIN = Kind(
    "domain",
    field="domains",
    sections=("domains",),
    type_sections=("domains",),
    build=build_domains,
    fields=domain_fields,
    nodes=one_node("domain", "type"),
    located=Located("type", ("type", "domain")),
    namespaces=("type",),
    edges=domain_edges,
    names=domain_names,
    types=domain_types,
    template="domain",
    privileges=("domain", frozenset({"all", "usage"})),
    comparison=Comparison(("domain",), frozenset({"loc", "grants", "revoke_public"})),
    import_yaml=imported_by("schemac.importer.routines", "domain_yaml"),
)
