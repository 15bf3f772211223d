"""Generated columns around migra's statements: migra writes a changed expression as SET
DEFAULT (PostgreSQL refuses it) and every generated column as STORED, whether the YAML
declares it stored or virtual (PostgreSQL 18); nor does it compare the two kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from schemac.naming import quote_ident, quote_qualified
from schemac.planner import USER_SCHEMAS, shape
from schemac.sql.classify import classify
from schemac.sql.parse import SqlSyntaxError

# -- generated columns ----------------------------------------------------------------------------

_GENERATED = f"""
    SELECT n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid),
           pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated::text
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attgenerated <> '' AND NOT a.attisdropped AND {USER_SCHEMAS}
"""


@dataclass(frozen=True)
class GeneratedColumn:
    expression: str
    type: str
    not_null: bool
    stored: bool


def read_generated(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], GeneratedColumn]:
    return {
        (str(s), str(t), str(c)): GeneratedColumn(str(e), str(ty), bool(nn), g == "s")
        for s, t, c, e, ty, nn, g in conn.execute(_GENERATED)
    }


def generated_statements(
    statements: list[str],
    desired: dict[tuple[str, str, str], GeneratedColumn],
    server_version: int,
) -> list[str]:
    """migra writes a changed generation expression as SET DEFAULT, which PostgreSQL refuses.
    PostgreSQL 17 and later change it in place (SET EXPRESSION, which rewrites the table);
    before 17 the column is dropped and added again (it holds nothing but derived values)."""
    planned = []
    for statement in statements:
        found = shape(statement)
        column = (*found.relation, found.member or "") if found.relation else None
        if found.action != "column_default" or column not in desired:
            planned.append(statement)
            continue
        generated = desired[column]
        table, name = quote_qualified(column[0], column[1]), quote_ident(column[2])
        if server_version >= 170000:
            planned.append(
                f"ALTER TABLE {table} ALTER COLUMN {name} SET EXPRESSION AS ({generated.expression});"
            )
            continue
        planned.append(f"ALTER TABLE {table} DROP COLUMN {name};")
        planned.append(_add_column(table, name, generated))
    return planned


def drops_only_derived_values(
    statement: str, desired: dict[tuple[str, str, str], GeneratedColumn]
) -> bool:
    """Whether the statement drops a column the desired state generates again (before 17):
    it holds nothing but values PostgreSQL computes, so no data is lost."""
    found = shape(statement)
    return (
        found.action == "drop_column"
        and found.relation is not None
        and (*found.relation, found.member or "") in desired
    )


Column = tuple[str, str, str]  # schema, table, column


def _add_column(table: str, name: str, generated: GeneratedColumn) -> str:
    kind = "STORED" if generated.stored else "VIRTUAL"
    not_null = " NOT NULL" if generated.not_null else ""
    return (
        f"ALTER TABLE {table} ADD COLUMN {name} {generated.type} GENERATED ALWAYS AS "
        f"({generated.expression}) {kind}{not_null};"
    )


def _added_column(statement: str) -> Column | None:
    """(schema, table, column) of an ALTER TABLE that only adds one column."""
    try:
        found = classify(statement)
    except SqlSyntaxError:
        return None
    if found.kind != "alter table" or found.name is None or len(found.subcommands) != 1:
        return None
    command = found.subcommands[0]
    if command.action != "add column" or command.column is None:
        return None
    return (found.schema or "public", found.name, command.column)


def virtual_statements(
    statements: list[str],
    current: dict[Column, GeneratedColumn],
    desired: dict[Column, GeneratedColumn],
) -> list[str]:
    """A virtual column migra adds is added VIRTUAL (migra writes STORED); a column that
    turns from stored to virtual or back, which PostgreSQL cannot change in place, is dropped
    and added again (it holds nothing but values PostgreSQL computes)."""
    planned = []
    for statement in statements:
        column = _added_column(statement)
        generated = desired.get(column) if column is not None else None
        if column is not None and generated is not None and not generated.stored:
            table = quote_qualified(column[0], column[1])
            planned.append(_add_column(table, quote_ident(column[2]), generated))
            continue
        planned.append(statement)
    for column, generated in sorted(desired.items()):
        found = current.get(column)
        if found is None or found.stored == generated.stored:
            continue
        table, name = quote_qualified(column[0], column[1]), quote_ident(column[2])
        planned.append(f"ALTER TABLE {table} DROP COLUMN {name};")
        planned.append(_add_column(table, name, generated))
    return planned


def adds_virtual_column(statement: str) -> bool:
    """Whether an ALTER TABLE adds a virtual generated column (which writes no row)."""
    try:
        parsed = parse_sql(statement)
    except ParseError:
        return False
    for raw in parsed:
        stmt = raw.stmt
        if not isinstance(stmt, ast.AlterTableStmt):
            continue
        for command in stmt.cmds or ():
            definition = getattr(command, "def_", None)
            if command.subtype != enums.AlterTableType.AT_AddColumn or not isinstance(
                definition, ast.ColumnDef
            ):
                continue
            for constraint in definition.constraints or ():
                if (
                    constraint.contype == enums.ConstrType.CONSTR_GENERATED
                    and constraint.generated_kind == "v"
                ):
                    return True
    return False
