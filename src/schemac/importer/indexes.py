"""Indexes of tables and materialized views as schemac YAML."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from schemac import model as m
from schemac.importer.context import Context
from schemac.importer.extras import report_extras
from schemac.importer.names import bare_expression, reference_part, unquote_ident
from schemac.naming import default_constraint_name


def index_yaml(ctx: Context, index: m.Index) -> dict[str, Any]:
    """One index of a table or materialized view."""
    ctx.names.check(f"index on {index.table}", index.name)
    out: dict[str, Any] = {}
    parts = [unquote_ident(e.column) if e.column else "expr" for e in index.elements]
    if index.name != default_constraint_name(index.table.name, parts, "idx"):
        out["name"] = index.name
    if index.unique:
        out["unique"] = True
    out["columns"] = [_index_element(_without_own_collation(ctx, index, e)) for e in index.elements]
    if index.method not in (None, "btree"):
        out["method"] = index.method
    if index.include:
        out["include"] = [unquote_ident(c) for c in index.include]
    if index.where:
        out["where"] = bare_expression(index.where)
    if index.nulls_not_distinct:
        out["nulls_not_distinct"] = True
    if index.storage:
        out["with"] = {k: int(v) if v.isdigit() else v for k, v in index.storage}
    if index.comment is not None:
        out["comment"] = index.comment
    report_extras(
        ctx.source.catalog, "index", index.qname.label, ctx.notes, ctx.source.current_user
    )
    return out


def _without_own_collation(ctx: Context, index: m.Index, element: m.IndexElement) -> m.IndexElement:
    """An element's collation is written only when it is not the one the indexed value has."""
    if element.collation is None:
        return element
    own: set[str | None] = {"default"}
    table = ctx.of("table").get(index.table.label)
    column = table.column(unquote_ident(element.column)) if table and element.column else None
    if column is not None:
        own.add(column.collation)
        domain = ctx.of("domain").get(column.type)
        if domain is not None:
            own.add(domain.collation)
    return replace(element, collation=None) if element.collation in own else element


def _index_element(element: m.IndexElement) -> Any:
    if element.column is not None:
        element = replace(element, column=unquote_ident(element.column))
    if element.column is not None and element.opclass is None and element.collation is None:
        words = [reference_part(element.column)]  # the short form is SQL: quoted as needed
        if element.order:
            words.append(element.order)
        if element.nulls:
            words.append(f"nulls {element.nulls}")
        return " ".join(words)
    out: dict[str, Any] = {}
    if element.column is not None:
        out["column"] = element.column
    else:
        out["expression"] = element.expression
    for key in ("order", "nulls", "opclass", "collation"):
        value = getattr(element, key)
        if value is not None:
            out[key] = value
    return out
