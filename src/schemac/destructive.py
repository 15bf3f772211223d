"""Which planned statements lose data: drops of tables, columns, schemas, sequences and types,
enum values removed, and column types that are not widened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from schemac.sql.classify import Classified, classify
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.sql.statements import split


@dataclass(frozen=True)
class DestructiveChange:
    statement: str
    reason: str


def column_types(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], str]:
    rows = conn.execute("""
        SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
    """).fetchall()
    return {(str(s), str(t), str(c)): str(ty) for s, t, c, ty in rows}


_OLD_ENUM_SUFFIX = "__old_version_to_be_dropped"


def destructive_changes(
    statements: list[str],
    before: dict[tuple[str, str, str], str],
    after: dict[tuple[str, str, str], str],
) -> list[DestructiveChange]:
    """The planned statements that lose data, each with the reason, read from parse trees."""
    found: list[DestructiveChange] = []
    for statement in statements:
        # A planned entry may hold several statements (a role's DO block and its GRANTs).
        for piece in split(statement):
            found += _losses(statement, classify(piece.text), before, after)
    return found


def _losses(
    statement: str,
    info: Classified,
    before: dict[tuple[str, str, str], str],
    after: dict[tuple[str, str, str], str],
) -> list[DestructiveChange]:
    found: list[DestructiveChange] = []
    if info.kind != "drop materialized view":  # its rows are derived: the planner rebuilds it
        found += [DestructiveChange(statement, reason) for reason in info.destructive]
    if info.kind == "drop type" and info.name:
        name = f"{info.schema}.{info.name}" if info.schema else info.name
        if name.endswith(_OLD_ENUM_SUFFIX):
            reason = (
                f"enum {name.removesuffix(_OLD_ENUM_SUFFIX)} loses or reorders values; "
                "rows holding a removed value make the migration fail"
            )
        else:
            reason = f"drops type {name}"
        found.append(DestructiveChange(statement, reason))
    for command in info.subcommands:
        if command.action != "set data type" or not (info.schema and info.name):
            continue
        key = (info.schema, info.name, str(command.column))
        old, new = before.get(key), after.get(key)
        if old is None or new is None or not is_widening(old, new):
            found.append(
                DestructiveChange(
                    statement,
                    f"changes the type of {'.'.join(key)} from {old} to {new}, "
                    "which may lose or reject data",
                )
            )
    return found


_INTEGER_WIDTHS = ("int2", "int4", "int8")  # PostgreSQL's own names, narrowest first


def is_widening(old: str, new: str) -> bool:
    """Whether every value of type ``old`` converts to ``new`` unchanged (format_type spelling)."""
    if old == new:
        return True
    try:
        before, after = parse_type_name(old), parse_type_name(new)
    except SqlSyntaxError:
        return False
    if before.array_bounds or after.array_bounds or before.schema or after.schema:
        return False
    if before.name in _INTEGER_WIDTHS:
        if after.name in _INTEGER_WIDTHS:
            return _INTEGER_WIDTHS.index(after.name) >= _INTEGER_WIDTHS.index(before.name)
        return after.name == "numeric" and not after.modifiers
    if before.name == "float4":
        return after.name == "float8"
    if before.name == "varchar":
        if after.name == "text":
            return True
        if after.name != "varchar":
            return False
        return not after.modifiers or (
            bool(before.modifiers) and int(after.modifiers[0]) >= int(before.modifiers[0])
        )
    if before.name == "numeric" and after.name == "numeric":
        if not after.modifiers:
            return True
        if not before.modifiers:
            return False
        old_precision, old_scale = _precision_and_scale(before.modifiers)
        new_precision, new_scale = _precision_and_scale(after.modifiers)
        return new_scale >= old_scale and new_precision - new_scale >= old_precision - old_scale
    return False


def _precision_and_scale(modifiers: tuple[str, ...]) -> tuple[int, int]:
    return int(modifiers[0]), int(modifiers[1]) if len(modifiers) > 1 else 0
