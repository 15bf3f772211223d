"""Views and materialized views (one kind: `materialized` decides the statement)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemac import model as m
from schemac.kinds.common import expression, imported_by, one_node
from schemac.kinds.indexes import build_index, index_fields
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.kinds.tables import TABLE_PRIVILEGES
from schemac.sql.parse import query_error
from schemac.sqlfields import enumerated, items
from schemac.validate import locate

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document, LocatedDict
    from schemac.sqlfields import FieldChecker

VIEW_SECTIONS = (("views", False), ("materialized_views", True))


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    for key, materialized in VIEW_SECTIONS:
        for name, v in (doc.data.get(key) or {}).items():
            qname = m.QName(schema, name)
            b.add(
                "views",
                u,
                m.View(
                    qname,
                    expression(v["query"].strip().rstrip(";").strip()),
                    tuple(v.get("columns", ())),
                    materialized,
                    bool(v.get("with_data", True)),
                    v.get("security_invoker"),
                    v.get("security_barrier"),
                    v.get("check_option"),
                    tuple(
                        b.qualify(d, schema, (v["depends_on"], i))
                        for i, d in enumerate(v.get("depends_on", ()))
                    ),
                    b.grants(doc.data.get("table_grants"), v.get("grants")),
                    tuple((k, c) for k, c in (v.get("column_comments") or {}).items()),
                    v.get("comment"),
                    doc.data[key].key_locations[name],
                ),
            )
            for i, ix in enumerate(v.get("indexes") or []):
                build_index(b, u, qname, ix, locate(doc, [key, name, "indexes", i]))


def fields(checker: FieldChecker, data: LocatedDict) -> None:
    for key, _ in VIEW_SECTIONS:
        for name, view in items(data.get(key)):
            checker.sql(view, "query", f"the query of view '{name}'", query_error)
            for i, index in enumerated(view.get("indexes")):
                index_fields(checker, f"index {i + 1} of '{name}'", index)


def edges(a: Analyser, view: m.View) -> set[str]:
    deps = a.statement_dependencies(view.query)
    deps |= {key for d in view.depends_on if (key := a.any_key(d))}
    return deps | a.grant_dependencies(view.grants)


def names(a: Analyser, view: m.View, claims: NameClaims) -> None:
    kind = "materialized view" if view.materialized else "view"
    claims.claim("relations", view.qname, kind, view.loc)
    claims.claim("types", view.qname, f"{kind} (its row type)", view.loc)


def check(a: Analyser) -> None:
    for _, view in a.p.views:
        for dep in view.depends_on:
            if a.any_key(dep) is None:
                a.error("E370", f"view {view.qname} depends on unknown object {dep}", view.loc)


VIEW = Kind(
    "view",
    field="views",
    sections=tuple(key for key, _ in VIEW_SECTIONS),
    build=build,
    fields=fields,
    nodes=one_node("view", "relation"),
    located=Located("relation", ("view", "materialized view")),
    namespaces=("relation", "type"),
    edges=edges,
    check=check,
    names=names,
    template="view",
    privileges=("table", TABLE_PRIVILEGES),
    # Read with the tables (relations.py: one query for every relation).
    comparison=Comparison(
        ("view", "materialized view"), frozenset({"loc", "depends_on", "grants"})
    ),
    import_unit=imported_by("schemac.importer.routines", "views_sections"),
    grants_section="table_grants",
)
