"""Identity columns' sequence options (`identity: {generated:, start:, increment:, ...}`).

A column holds only the options that differ from what PostgreSQL gives an identity of its
type and direction, so the YAML's `start: 1` and a catalog that says 1 are the same model,
and the catalog reader (relations.py) and the builder normalise alike.
"""

from __future__ import annotations

from typing import Any

# The YAML's option names, in the order a CREATE or ALTER writes them.
IDENTITY_OPTIONS = ("start", "increment", "minvalue", "maxvalue", "cache", "cycle")

_SQL = {
    "start": "START WITH",
    "increment": "INCREMENT BY",
    "minvalue": "MINVALUE",
    "maxvalue": "MAXVALUE",
    "cache": "CACHE",
}

TYPE_RANGE = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}
_ALIASES = {"int": "integer", "int2": "smallint", "int4": "integer", "int8": "bigint"}


def _range(type_name: str) -> tuple[int, int]:
    name = type_name.strip().lower()
    return TYPE_RANGE.get(_ALIASES.get(name, name), TYPE_RANGE["bigint"])


def normalised(type_name: str, given: dict[str, Any]) -> tuple[tuple[str, int | bool], ...]:
    """The options that differ from PostgreSQL's defaults for the type, given the others
    (START follows MINVALUE going up and MAXVALUE going down, as in CREATE SEQUENCE)."""
    low, high = _range(type_name)
    increment = int(given.get("increment", 1))
    ascending = increment > 0
    minvalue = int(given.get("minvalue", 1 if ascending else low))
    maxvalue = int(given.get("maxvalue", high if ascending else -1))
    defaults: dict[str, int | bool] = {
        "start": minvalue if ascending else maxvalue,
        "increment": 1,
        "minvalue": 1 if ascending else low,
        "maxvalue": high if ascending else -1,
        "cache": 1,
        "cycle": False,
    }
    out: list[tuple[str, int | bool]] = []
    for option in IDENTITY_OPTIONS:
        if option not in given:
            continue
        value: int | bool = bool(given[option]) if option == "cycle" else int(given[option])
        if value != defaults[option]:
            out.append((option, value))
    return tuple(out)


def options_sql(options: tuple[tuple[str, int | bool], ...]) -> str:
    """`START WITH 100 INCREMENT BY 10 CYCLE`: the sequence options of GENERATED ... AS
    IDENTITY (...)."""
    return " ".join(
        ("CYCLE" if value else "NO CYCLE") if option == "cycle" else f"{_SQL[option]} {value}"
        for option, value in options
    )


def alter_clauses(
    type_name: str,
    current: tuple[tuple[str, int | bool], ...],
    desired: tuple[tuple[str, int | bool], ...],
) -> list[str]:
    """The `SET ...` clauses of ALTER TABLE ... ALTER COLUMN that turn one identity's options
    into the other's; every option is written out, so an option taken back returns to its
    default (for the type and the desired direction)."""
    if current == desired:
        return []
    low, high = _range(type_name)
    wanted = dict(desired)
    increment = int(wanted.get("increment", 1))
    ascending = increment > 0
    minvalue = int(wanted.get("minvalue", 1 if ascending else low))
    maxvalue = int(wanted.get("maxvalue", high if ascending else -1))
    full: dict[str, int | bool] = {
        "increment": increment,
        "minvalue": minvalue,
        "maxvalue": maxvalue,
        "start": int(wanted.get("start", minvalue if ascending else maxvalue)),
        "cache": int(wanted.get("cache", 1)),
        "cycle": bool(wanted.get("cycle", False)),
    }
    clauses = [f"SET {_SQL[o]} {full[o]}" for o in ("increment", "minvalue", "maxvalue")]
    clauses += [f"SET START WITH {full['start']}", f"SET CACHE {full['cache']}"]
    clauses.append("SET CYCLE" if full["cycle"] else "SET NO CYCLE")
    return clauses


def catalog_options(
    type_name: str, sequence: list[str] | None
) -> tuple[tuple[str, int | bool], ...]:
    """pg_sequence's (type, start, increment, min, max, cache, cycle) of an identity, as the
    column's options."""
    if not sequence:
        return ()
    _, start, increment, minimum, maximum, cache, cycle = sequence
    return normalised(
        type_name,
        {
            "start": int(start),
            "increment": int(increment),
            "minvalue": int(minimum),
            "maxvalue": int(maximum),
            "cache": int(cache),
            "cycle": cycle == "true",
        },
    )
