"""Every other user object, so that none goes unseen: aggregates, composite and range types,
rules, extended statistics, collations, operators, casts, text search objects, foreign tables,
foreign servers and data wrappers, event triggers.

The YAML cannot declare these yet, so each is read as what PostgreSQL calls it
(``pg_identify_object``) and, where PostgreSQL prints one, its definition: an object made by
hand, dropped or changed is then a difference like any other, named by its kind and identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from schemac.catalog.contents import CatalogModel
from schemac.catalog.queries import USER_NAMESPACE, rows

# Objects PostgreSQL itself creates have oids below this; they are the same in every database.
FIRST_USER_OID = 16384


@dataclass(frozen=True)
class OtherObject:
    """An object the model has no class for: its kind and identity as PostgreSQL names them."""

    type: str  # pg_identify_object's type: aggregate, composite type, rule, statistics object, ...
    identity: str
    definition: str | None


def _in_schema(catalog: str, alias: str, namespace_column: str, definition: str = "NULL") -> str:
    return (
        f"SELECT 'pg_catalog.{catalog}'::pg_catalog.regclass AS classid, {alias}.oid, "
        f"{definition}::text AS definition "
        f"FROM pg_catalog.{catalog} {alias} "
        f"JOIN pg_catalog.pg_namespace n ON n.oid = {alias}.{namespace_column} "
        f"WHERE {USER_NAMESPACE}"
    )


def _global(catalog: str, alias: str, definition: str = "NULL") -> str:
    return (
        f"SELECT 'pg_catalog.{catalog}'::pg_catalog.regclass AS classid, {alias}.oid, "
        f"{definition}::text AS definition FROM pg_catalog.{catalog} {alias} "
        f"WHERE {alias}.oid >= {FIRST_USER_OID}"
    )


_COMPOSITE = (
    "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' ' || "
    "pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) "
    "FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 "
    "AND NOT a.attisdropped)"
)
_RANGE = (
    "(SELECT pg_catalog.format_type(r.rngsubtype, NULL) || ' ' || r.rngsubopc::pg_catalog.regclass::text"
    " FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)"
)
_AGGREGATE = (
    "(SELECT g.aggtransfn::text || ' ' || pg_catalog.format_type(g.aggtranstype, NULL) || ' ' || "
    "g.aggfinalfn::text || ' ' || g.aggcombinefn::text || ' ' || coalesce(g.agginitval, '') "
    "FROM pg_catalog.pg_aggregate g WHERE g.aggfnoid = p.oid)"
)

_PARTS = [
    _in_schema("pg_proc", "p", "pronamespace", _AGGREGATE) + " AND p.prokind = 'a'",
    _in_schema(
        "pg_type",
        "t",
        "typnamespace",
        f"CASE t.typtype WHEN 'c' THEN {_COMPOSITE} ELSE {_RANGE} END",
    )
    + " AND (t.typtype = 'r' OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c"
    " WHERE c.oid = t.typrelid) = 'c'))",
    _in_schema("pg_class", "c", "relnamespace") + " AND c.relkind = 'f'",
    "SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid, pg_catalog.pg_get_ruledef(r.oid) "
    "FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
    f"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACE} "
    "AND r.rulename <> '_RETURN'",
    _in_schema(
        "pg_statistic_ext", "s", "stxnamespace", "pg_catalog.pg_get_statisticsobjdef(s.oid)"
    ),
    _in_schema(
        "pg_collation",
        "co",
        "collnamespace",
        "co.collprovider::text || ' ' || coalesce(co.collcollate, '')",
    ),
    _in_schema("pg_operator", "o", "oprnamespace", "o.oprcode::text"),
    _in_schema("pg_opclass", "oc", "opcnamespace"),
    _in_schema("pg_opfamily", "of", "opfnamespace"),
    _in_schema("pg_conversion", "cv", "connamespace"),
    _in_schema("pg_ts_config", "tc", "cfgnamespace"),
    _in_schema("pg_ts_dict", "td", "dictnamespace", "td.dictinitoption"),
    _in_schema("pg_ts_parser", "tp", "prsnamespace"),
    _in_schema("pg_ts_template", "tt", "tmplnamespace"),
    _global(
        "pg_cast", "ca", "ca.castfunc::pg_catalog.regprocedure::text || ' ' || ca.castcontext::text"
    ),
    _global("pg_foreign_data_wrapper", "w"),
    _global("pg_foreign_server", "fs", "pg_catalog.array_to_string(fs.srvoptions, ',')"),
    _global(
        "pg_event_trigger",
        "et",
        "et.evtevent || ' ' || et.evtfoid::pg_catalog.regproc::text || ' ' || et.evtenabled::text",
    ),
]

OTHERS = f"""
SELECT o.type, o.identity, x.definition
FROM ({" UNION ALL ".join(_PARTS)}) x
CROSS JOIN LATERAL pg_catalog.pg_identify_object(x.classid, x.oid, 0) o
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = x.classid
                  AND e.objid = x.oid AND e.deptype IN ('e', 'i'))
ORDER BY 1, 2
"""


def read_others(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, OTHERS):
        obj = OtherObject(row["type"], row["identity"], row["definition"])
        out.add("other", f"{row['type']} {row['identity']}", obj)
