"""Tables as schemac YAML: columns with their short forms, keys, checks, indexes, partitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import kinds
from schemac import model as m
from schemac.importer.context import Context, relative_name
from schemac.importer.extras import report_extras
from schemac.importer.indexes import index_yaml
from schemac.importer.names import (
    bare_expression,
    is_identifier,
    reference_part,
    sql_value,
    unquote_ident,
)
from schemac.importer.partitions import partition_by_yaml, partition_yaml
from schemac.importer.policies import policies_and_tenancy, triggers_of
from schemac.importer.yaml_writer import Aligned, Block, SpacedBlock
from schemac.kinds.replica_identity import yaml_of as replica_identity_yaml
from schemac.naming import default_constraint_name, member_label
from schemac.sql.parse import SqlSyntaxError, parse_type_name

if TYPE_CHECKING:
    from schemac.importer.units import SchemaUnit

# Catalog kinds created on a table (their objects name it: obj.table), from schemac.kinds.
TABLE_MEMBERS = tuple(c for c, k in kinds.KIND_OF_CATALOG.items() if k.table_member)


def tables_section(ctx: Context, unit: SchemaUnit) -> dict[str, SpacedBlock]:
    """The unit's `tables:` with their members (`Kind.import_unit` of kinds/tables.py)."""
    tables = SpacedBlock()
    for table in sorted(unit.content.get("table", {}).values(), key=lambda t: t.qname.name):
        members = unit.by_table.get(table.qname.label, {})
        tables[table.qname.name] = table_yaml(ctx, table, members)
        unit.depends_on |= _table_dependencies(table, members)
    for partition in unit.content.get("partition", {}).values():
        if partition.parent.schema != unit.schema:
            ctx.names.refused.append(f"partition {partition.qname} of {partition.parent}")
        # its own foreign keys and triggers may name other schemas as a table's do
        unit.depends_on |= _member_dependencies(unit.by_table.get(partition.qname.label, {}))
    return {"tables": tables}


def _member_dependencies(related: dict[str, list[Any]]) -> set[str]:
    found = {fk.ref_table.schema for fk in related.get("foreign key", [])}
    return found | {t.function.schema for t in related.get("trigger", [])}


def _table_dependencies(table: m.Table, related: dict[str, list[Any]]) -> set[str]:
    found = _member_dependencies(related)
    for column in table.columns:
        qualifier = _type_schema(column.type)
        if qualifier is not None:
            found.add(qualifier)
    return found


def _type_schema(text: str) -> str | None:
    """The schema a column's type (format_type's text) names, read by the parser: a name may
    contain dots (`"app.v2".mood`), so the text is never split on them."""
    try:
        return parse_type_name(text).schema
    except SqlSyntaxError:
        return None


def table_yaml(ctx: Context, table: m.Table, by_table: dict[str, list[Any]]) -> Block:
    """One table's mapping (``by_table``: foreign keys, indexes, partitions, triggers, policies)."""
    schema, name = table.qname.schema, table.qname.name
    ctx.names.check(f"table {table.qname}", name)
    out = Block()
    if table.comment is not None:
        out["comment"] = table.comment
    policies, tenant = policies_and_tenancy(ctx, table, by_table.get("policy", []))
    if tenant is not None:
        out["tenant"] = tenant
    if table.unlogged:
        out["unlogged"] = True
    keys = [fk for fk in by_table.get("foreign key", [])]
    columns, short_keys, column_constraints = _columns(ctx, table, keys)
    out["columns"] = columns
    constraints_yaml(ctx, table.qname, table.constraints, column_constraints, out)
    long_keys = [fk for fk in keys if fk.name not in short_keys]
    if long_keys:
        out["foreign_keys"] = [foreign_key_yaml(ctx, fk, schema) for fk in long_keys]
    indexes = [index_yaml(ctx, ix) for ix in by_table.get("index", [])]
    if indexes:
        out["indexes"] = indexes
    if table.partition_by:
        out["partition_by"] = partition_by_yaml(ctx, table)
        partitions = {
            p.qname.name: partition_yaml(ctx, p, table) for p in by_table.get("partition", [])
        }
        if partitions:
            out["partitions"] = partitions
    triggers = triggers_of(ctx, by_table.get("trigger", []), schema)
    if triggers:
        out["triggers"] = triggers
    if tenant is None and (table.rls_enable or table.rls_force):
        out["row_level_security"] = {"enable": table.rls_enable, "force": table.rls_force}
    if policies:
        out["policies"] = policies
    grants = ctx.grants("table", table.qname.label, table.grants)
    if grants:
        out["grants"] = grants
    if table.replica_identity != "default":
        out["replica_identity"] = replica_identity_yaml(table.replica_identity)
    report_extras(
        ctx.source.catalog, "table", table.qname.label, ctx.notes, ctx.source.current_user
    )
    return out


def _references(ctx: Context, fk: m.ForeignKey, schema: str) -> Any:
    """A column's ``references:``: ``table``, ``table(column)`` or the full form."""
    target = relative_name(fk.ref_table, schema)
    ref_table = ctx.of("table").get(fk.ref_table.label)
    primary = _primary_columns(ref_table) if ref_table is not None else ()
    column = None if primary == fk.ref_columns else fk.ref_columns[0]
    options: dict[str, Any] = {}
    if fk.name != default_constraint_name(fk.table.name, list(fk.columns), "fkey"):
        options["name"] = fk.name
    for key, value in (("on_delete", fk.on_delete), ("on_update", fk.on_update)):
        if value is not None:
            options[key] = value
    if fk.deferrable:
        options["deferrable"] = True
    if fk.initially_deferred:
        options["initially_deferred"] = True
    if fk.comment is not None:
        options["comment"] = fk.comment
    if not options:
        return target if column is None else f"{target}({reference_part(column)})"
    full: dict[str, Any] = {"table": target}
    if column is not None:
        full["column"] = column
    return {**full, **options}


def _primary_columns(table: m.Table) -> tuple[str, ...]:
    pk = next((c for c in table.constraints if c.kind == "primary_key"), None)
    return pk.columns if pk is not None else ()


def foreign_key_yaml(ctx: Context, fk: m.ForeignKey, schema: str) -> dict[str, Any]:
    ctx.names.check(f"foreign key on {fk.table}", fk.name, *fk.columns, *fk.ref_columns)
    out: dict[str, Any] = {}
    if fk.name != default_constraint_name(fk.table.name, list(fk.columns), "fkey"):
        out["name"] = fk.name
    out["columns"] = list(fk.columns)
    out["references"] = {
        "table": relative_name(fk.ref_table, schema),
        "columns": list(fk.ref_columns),
    }
    for key, value in (("on_delete", fk.on_delete), ("on_update", fk.on_update)):
        if value is not None:
            out[key] = value
    if fk.match == "partial":
        ctx.notes.lost(
            "foreign key", member_label(fk.name, fk.table.label), "match", "MATCH PARTIAL"
        )
    elif fk.match is not None:
        out["match"] = fk.match
    if fk.deferrable:
        out["deferrable"] = True
    if fk.initially_deferred:
        out["initially_deferred"] = True
    if fk.comment is not None:
        out["comment"] = fk.comment
    return out


def _is_short_fk(fk: m.ForeignKey) -> bool:
    return len(fk.columns) == 1 and fk.match is None


def _columns(
    ctx: Context, table: m.Table, keys: list[m.ForeignKey]
) -> tuple[Aligned, set[str], set[str]]:
    """The columns, with the single-column key, unique, check and reference written on them."""
    schema, name = table.qname.schema, table.qname.name
    by_name = {c.name: c for c in table.constraints}
    pk = next((c for c in table.constraints if c.kind == "primary_key"), None)
    used: set[str] = set()
    short_keys: set[str] = set()
    columns = Aligned()
    for column in table.columns:
        ctx.names.check(f"column of {table.qname}", column.name)
        col: dict[str, Any] = {"type": ctx.type(column.type, schema)}
        is_pk = (
            pk is not None
            and pk.columns == (column.name,)
            and pk.name == default_constraint_name(name, [], "pkey")
            and not pk.deferrable
            and pk.comment is None
        )
        if column.not_null and not is_pk and column.identity is None:
            col["not_null"] = True
        if column.default is not None:
            col["default"] = sql_value(column.default)
        if column.identity is not None:
            col["identity"] = (
                {"generated": column.identity, **dict(column.identity_options)}
                if column.identity_options
                else column.identity
            )
        if column.generated is not None:
            generated = bare_expression(column.generated)
            virtual = {"expression": generated, "stored": False}
            col["generated"] = virtual if column.generated_virtual else generated
        if column.collation is not None:
            col["collation"] = column.collation
        if is_pk and pk is not None:
            col["primary_key"] = True
            used.add(pk.name)
        unique = by_name.get(default_constraint_name(name, [column.name], "key"))
        plain_unique = unique is not None and not (
            unique.nulls_not_distinct or unique.deferrable or unique.where or unique.comment
        )
        if plain_unique and unique and unique.kind == "unique" and unique.columns == (column.name,):
            col["unique"] = True
            used.add(unique.name)
        check = by_name.get(default_constraint_name(name, [column.name], "check"))
        if check is not None and check.kind == "check" and check.comment is None:
            col["check"] = bare_expression(check.expression or "")
            used.add(check.name)
        reference = next(
            (fk for fk in keys if _is_short_fk(fk) and fk.columns == (column.name,)), None
        )
        if reference is not None and reference.name not in short_keys:
            col["references"] = _references(ctx, reference, schema)
            short_keys.add(reference.name)
            report_extras(
                ctx.source.catalog,
                "foreign key",
                member_label(reference.name, table.qname.label),
                ctx.notes,
                ctx.source.current_user,
            )
        if column.comment is not None:
            col["comment"] = column.comment
        if column.grants:
            col["grants"] = ctx.grants("column", f"{table.qname}.{column.name}", column.grants)
        columns[column.name] = col
    for fk in keys:
        if fk.name not in short_keys:
            report_extras(
                ctx.source.catalog,
                "foreign key",
                member_label(fk.name, table.qname.label),
                ctx.notes,
                ctx.source.current_user,
            )
    return columns, short_keys, used


def constraints_yaml(
    ctx: Context,
    qname: m.QName,
    constraints: tuple[m.Constraint, ...],
    used: set[str],
    out: dict[str, Any],
) -> None:
    """The keys, checks and exclusions of a table (or a partition) not written on a column."""
    name = qname.name
    uniques: list[Any] = []
    checks: dict[str, Any] = {}
    exclusions: list[Any] = []
    for c in constraints:
        if c.name in used:
            continue
        ctx.names.check(f"constraint on {qname}", c.name)
        if c.kind == "primary_key":
            default = c.name == default_constraint_name(name, [], "pkey")
            out["primary_key"] = (
                list(c.columns)
                if default and c.comment is None
                else {
                    **({} if default else {"name": c.name}),
                    "columns": list(c.columns),
                    **({"comment": c.comment} if c.comment is not None else {}),
                }
            )
            if c.deferrable:
                ctx.notes.lost(
                    "table", qname.label, f"constraint {c.name}", "a deferrable primary key"
                )
        elif c.kind == "unique":
            uniques.append(_unique(c, name))
        elif c.kind == "check":
            check = bare_expression(c.expression or "")
            checks[c.name] = (
                check if c.comment is None else {"expression": check, "comment": c.comment}
            )
        else:
            exclusions.append(_exclusion(ctx, c, qname))
    if uniques:
        out["unique"] = uniques
    if checks:
        out["checks"] = checks
    if exclusions:
        out["exclusions"] = exclusions


def _unique(c: m.Constraint, table: str) -> Any:
    options: dict[str, Any] = {}
    if c.name != default_constraint_name(table, list(c.columns), "key"):
        options["name"] = c.name
    if c.nulls_not_distinct:
        options["nulls_not_distinct"] = True
    if c.deferrable:
        options["deferrable"] = True
    if c.initially_deferred:
        options["initially_deferred"] = True
    if c.comment is not None:
        options["comment"] = c.comment
    if not options:
        return list(c.columns)
    return {
        **({"name": options.pop("name")} if "name" in options else {}),
        "columns": list(c.columns),
        **options,
    }


def _exclusion(ctx: Context, c: m.Constraint, table: m.QName) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for_name: list[str] = []
    for text, operator in c.elements:
        if is_identifier(unquote_ident(text)):
            elements.append({"column": unquote_ident(text), "with": operator})
            for_name.append(unquote_ident(text))
        else:
            elements.append({"expression": text, "with": operator})
            for_name.append("expr")
    out: dict[str, Any] = {}
    if c.name != default_constraint_name(table.name, for_name, "excl"):
        out["name"] = c.name
    if c.using != "gist":
        out["using"] = c.using
    out["elements"] = elements
    if c.where:
        out["where"] = bare_expression(c.where)
    if c.deferrable:
        out["deferrable"] = True
    if c.initially_deferred:
        out["initially_deferred"] = True
    if c.comment is not None:
        out["comment"] = c.comment
    return out
