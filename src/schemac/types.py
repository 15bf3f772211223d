"""Type names PostgreSQL knows without any declaration, and those that extensions bring."""

from __future__ import annotations

import functools

from schemac.sql.parse import SqlSyntaxError, parse_type_name

BUILTIN_TYPES = frozenset(
    """
smallint integer int int2 int4 int8 bigint smallserial serial bigserial serial2 serial4 serial8 real float
float4 float8 numeric decimal money text varchar char character bpchar name bytea boolean bool date time
timetz timestamp timestamptz interval uuid json jsonb jsonpath xml inet cidr macaddr macaddr8 point line
lseg box path polygon circle tsvector tsquery int4range int8range numrange tsrange tstzrange daterange
int4multirange int8multirange nummultirange tsmultirange tstzmultirange datemultirange bit varbit oid
regclass regproc regprocedure regoper regoperator regtype regconfig regdictionary regnamespace regrole
record trigger event_trigger void anyelement anyarray anynonarray anyenum anyrange anymultirange
anycompatible anycompatiblearray cstring internal pg_lsn pg_snapshot txid_snapshot refcursor xid xid8 cid tid
""".split()
)

SERIAL_TYPES = frozenset({"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"})

# Multi-word spellings (the parser names them float8, varchar, ...): offered in hints.
MULTI_WORD_TYPES = (
    "double precision",
    "character varying",
    "bit varying",
    "timestamp with time zone",
    "timestamp without time zone",
    "time with time zone",
    "time without time zone",
)

EXTENSION_TYPES: dict[str, frozenset[str]] = {
    "citext": frozenset({"citext"}),
    "hstore": frozenset({"hstore"}),
    "ltree": frozenset({"ltree", "lquery", "ltxtquery"}),
    "cube": frozenset({"cube"}),
    "isn": frozenset({"isbn", "isbn13", "issn", "issn13", "ean13", "upc", "ismn", "ismn13"}),
    "seg": frozenset({"seg"}),
    "vector": frozenset({"vector", "halfvec", "sparsevec"}),
    "postgis": frozenset({"geometry", "geography", "box2d", "box3d"}),
}


@functools.lru_cache(maxsize=4096)
def base_type_name(type_text: str) -> str:
    """The type's name as PostgreSQL's parser reads it, without modifiers or array bounds:
    `varchar(200)[]` -> `varchar`, `double precision` -> `float8`, `integer` -> `int4`,
    `"app"."mood"` -> `mood`. A text that is not one type name is returned as written (it was
    reported at its position already)."""
    try:
        return parse_type_name(type_text.strip(), allow_setof=True).name
    except SqlSyntaxError:
        return type_text


def is_builtin(base: str, extensions: set[str]) -> bool:
    if base in BUILTIN_TYPES or base in MULTI_WORD_TYPES:
        return True
    return any(base in EXTENSION_TYPES.get(ext, frozenset()) for ext in extensions)


def known_type_names(extensions: set[str]) -> set[str]:
    names = set(BUILTIN_TYPES) | set(MULTI_WORD_TYPES)
    for ext in extensions:
        names |= EXTENSION_TYPES.get(ext, frozenset())
    return names
