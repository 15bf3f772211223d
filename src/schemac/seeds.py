"""Seed rows that would compile but not apply, reported at the value in the YAML.

A seed file is one `INSERT ... ON CONFLICT (key) DO UPDATE` per table: two rows with the same
key make PostgreSQL refuse the whole statement ("cannot affect row a second time"), and a
value the column type cannot hold (NaN into an integer) fails it too, long after `compile`
said everything was fine. Unknown columns and keys that are not unique are analyse's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.loader import LocatedDict, LocatedList
from schemac.types import base_type_name

INTEGER_TYPES = frozenset(
    {"smallint", "integer", "int", "int2", "int4", "int8", "bigint"}
    | {"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"}
)
# Types whose input takes NaN and Infinity ('NaN'::numeric since PostgreSQL 14 takes both).
NON_FINITE_TYPES = frozenset({"real", "float", "float4", "float8", "double precision"}) | {
    "numeric",
    "decimal",
}


def _key_text(value: Any) -> str:
    """How PostgreSQL will see a key value: 1 and '1' in a text key are the same row."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _where(row: Any, column: str, fallback: SourceLocation) -> SourceLocation:
    if isinstance(row, LocatedDict):
        return row.value_locations.get(column, fallback)
    return fallback


def check_seed(seed: LocatedDict, columns: Iterable[m.Column], table: m.QName) -> list[Diagnostic]:
    """Duplicate keys among the rows, and values their column's type cannot hold."""
    rows = seed.get("rows")
    key = seed.get("key")
    if not isinstance(rows, LocatedList) or not isinstance(key, list):
        return []  # the JSON Schema check reports the shape
    types = {c.name: base_type_name(c.type) for c in columns}
    problems: list[Diagnostic] = []
    first_row_of: dict[tuple[str | None, ...], int] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, LocatedDict):
            continue
        row_at = rows.item_locations[number - 1]
        problems += _value_problems(row, types, table, number)
        if not all(isinstance(k, str) and k in row for k in key):
            continue  # a missing key value is analyse's E381
        values = tuple(None if row[k] is None else _key_text(row[k]) for k in key)
        if any(v is None for v in values):
            continue  # NULL never conflicts with anything
        earlier = first_row_of.setdefault(values, number)
        if earlier != number:
            shown = ", ".join(f"{k} = {v}" for k, v in zip(key, values, strict=True))
            problems.append(
                Diagnostic(
                    "E383",
                    f"seed row {number} of {table} has the same key ({shown}) as row {earlier}: "
                    "one upsert cannot write a row twice",
                    _where(row, key[0], row_at),
                    hint="remove one of the rows or merge them",
                )
            )
    return problems


def _value_problems(
    row: LocatedDict, types: dict[str, str], table: m.QName, number: int
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for column, value in row.items():
        base = types.get(column)
        if base is None or not isinstance(value, float):
            continue
        where = row.value_locations[column]
        if not math.isfinite(value) and base not in NON_FINITE_TYPES:
            problems.append(
                Diagnostic(
                    "E384",
                    f"seed row {number} of {table}: {column} is {base}, which cannot hold {value}",
                    where,
                    hint="NaN and infinity fit only real, double precision and numeric columns",
                )
            )
        elif base in INTEGER_TYPES and not value.is_integer():
            problems.append(
                Diagnostic(
                    "E384",
                    f"seed row {number} of {table}: {column} is {base}; {value} would be "
                    "rounded silently",
                    where,
                    hint="write a whole number, or make the column numeric",
                )
            )
    return problems


def seed_column_locations(seed: LocatedDict) -> tuple[tuple[str, SourceLocation], ...]:
    """Where each key column and row column is first named (errors about one column go there)."""
    found: dict[str, SourceLocation] = {}
    key = seed.get("key")
    if isinstance(key, LocatedList):
        for index, column in enumerate(key):
            if isinstance(column, str):
                found.setdefault(column, key.item_locations[index])
    rows = seed.get("rows")
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, LocatedDict):
            for column in row:
                found.setdefault(column, row.key_locations[column])
    return tuple(found.items())
