"""Which planned statements lose data: drops of tables, columns, schemas, sequences and types,
enum values removed, and column types that are not widened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from schemac.drift import NAME, QUALIFIED_NAME, unquote


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


_DESTRUCTIVE = [
    (
        re.compile(rf"^drop table (?:if exists )?{QUALIFIED_NAME}", re.I),
        "drops table {0} and every row in it",
    ),
    (
        re.compile(
            rf"^alter table (?:only )?{QUALIFIED_NAME} drop column (?:if exists )?({NAME})", re.I
        ),
        "drops column {1} of {0} and its data",
    ),
    (re.compile(rf"^drop schema (?:if exists )?({NAME})", re.I), "drops schema {0}"),
    (
        re.compile(rf"^drop sequence (?:if exists )?{QUALIFIED_NAME}", re.I),
        "drops sequence {0} and its current value",
    ),
]
_DROP_TYPE = re.compile(rf"^drop type (?:if exists )?{QUALIFIED_NAME}", re.I)
_SET_TYPE = re.compile(
    rf"^alter table (?:only )?{QUALIFIED_NAME} alter column ({NAME}) set data type ", re.I
)
_OLD_ENUM_SUFFIX = "__old_version_to_be_dropped"


def destructive_changes(
    statements: list[str],
    before: dict[tuple[str, str, str], str],
    after: dict[tuple[str, str, str], str],
) -> list[DestructiveChange]:
    found: list[DestructiveChange] = []
    for statement in statements:
        for pattern, reason in _DESTRUCTIVE:
            match = pattern.match(statement)
            if match:
                found.append(
                    DestructiveChange(
                        statement, reason.format(*(unquote(g) for g in match.groups()))
                    )
                )
        match = _DROP_TYPE.match(statement)
        if match:
            name = unquote(match.group(1))
            if name.endswith(_OLD_ENUM_SUFFIX):
                found.append(
                    DestructiveChange(
                        statement,
                        f"enum {name.removesuffix(_OLD_ENUM_SUFFIX)} loses or "
                        "reorders values; rows holding a removed value make "
                        "the migration fail",
                    )
                )
            else:
                found.append(DestructiveChange(statement, f"drops type {name}"))
        match = _SET_TYPE.match(statement)
        if match:
            schema, table = unquote(match.group(1)).split(".", 1)
            column = unquote(match.group(2))
            old, new = before.get((schema, table, column)), after.get((schema, table, column))
            if old is None or new is None or not is_widening(old, new):
                found.append(
                    DestructiveChange(
                        statement,
                        f"changes the type of {schema}.{table}.{column} from "
                        f"{old} to {new}, which may lose or reject data",
                    )
                )
    return found


_INTEGERS = ("smallint", "integer", "bigint")
_VARCHAR = re.compile(r"character varying(?:\((\d+)\))?")
_NUMERIC = re.compile(r"numeric(?:\((\d+),(\d+)\))?")


def is_widening(old: str, new: str) -> bool:
    """Whether every value of type ``old`` converts to ``new`` unchanged (format_type spelling)."""
    if old == new:
        return True
    if old in _INTEGERS:
        return (
            new in _INTEGERS and _INTEGERS.index(new) >= _INTEGERS.index(old)
        ) or new == "numeric"
    if old == "real":
        return new == "double precision"
    varchar_old = _VARCHAR.fullmatch(old)
    if varchar_old:
        if new == "text":
            return True
        varchar_new = _VARCHAR.fullmatch(new)
        if varchar_new:
            return varchar_new.group(1) is None or (
                varchar_old.group(1) is not None
                and int(varchar_new.group(1)) >= int(varchar_old.group(1))
            )
        return False
    numeric_old, numeric_new = _NUMERIC.fullmatch(old), _NUMERIC.fullmatch(new)
    if numeric_old and numeric_new:
        if numeric_new.group(1) is None:
            return True
        if numeric_old.group(1) is None:
            return False
        old_precision, old_scale = int(numeric_old.group(1)), int(numeric_old.group(2))
        new_precision, new_scale = int(numeric_new.group(1)), int(numeric_new.group(2))
        return new_scale >= old_scale and new_precision - new_scale >= old_precision - old_scale
    return False
