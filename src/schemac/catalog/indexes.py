"""Indexes of tables, materialized views and partitions, as the catalog lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.queries import comment, options, rows

if TYPE_CHECKING:
    from schemac.catalog.relations import Relations

# An operator class by schema and name, so two of one name in different schemas differ; a
# pg_catalog one (always visible) bare. Each part quoted as needed: the text is SQL, as the
# YAML's `opclass:` is (`schemac import` writes it as read).
OPCLASS_NAME = """CASE WHEN {ns}.nspname = 'pg_catalog' THEN pg_catalog.quote_ident({oc}.opcname)
     ELSE pg_catalog.quote_ident({ns}.nspname) || '.' || pg_catalog.quote_ident({oc}.opcname) END"""

INDEXES = f"""
SELECT i.indexrelid, i.indrelid AS rel, ic.relname AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition, am.amname AS method,
       i.indisunique, i.indnullsnotdistinct, i.indisvalid,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate, ic.reloptions,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 pg_catalog.pg_get_indexdef(i.indexrelid, g, true), i.indkey[g - 1] <> 0,
                 i.indoption[g - 1], {OPCLASS_NAME.format(ns="ocn", oc="oc")}, oc.opcdefault,
                 g <= i.indnkeyatts,
                 CASE WHEN i.indcollation[g - 1] <> 0 THEN
                   (SELECT co.collname FROM pg_catalog.pg_collation co
                    WHERE co.oid = i.indcollation[g - 1]) END) ORDER BY g)
        FROM generate_series(1, i.indnatts) g
        LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = i.indclass[g - 1]
        LEFT JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace) AS elements,
       {comment("pg_class", "i.indexrelid")} AS comment
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname
"""


def _element(raw: list[Any]) -> m.IndexElement:
    text, is_column, option, opclass, opclass_default, is_key, collation = raw
    option = option or 0
    return m.IndexElement(
        column=text if is_column else None,
        expression=None if is_column else text,
        order="desc" if option & 1 else None,
        nulls=("first" if option & 2 else "last")
        if is_key and bool(option & 1) != bool(option & 2)
        else None,
        opclass=opclass if opclass and not opclass_default else None,
        collation=collation,
    )


def read_indexes(conn: psycopg.Connection[Any], out: CatalogModel, relations: Relations) -> None:
    """Indexes of tables, materialized views and partitions (a constraint's own index is the
    constraint's; a partition's copy of its parent's index is PostgreSQL's, not read)."""
    kinds = ("table", "materialized view", "partition")
    for row in rows(conn, INDEXES, (relations.oids(*kinds),)):
        table = relations.names[row["rel"]]
        raw = row["elements"] or []
        index = m.Index(
            name=row["name"],
            table=table,
            elements=tuple(_element(e) for e in raw if e[5]),
            unique=bool(row["indisunique"]),
            nulls_not_distinct=bool(row["indnullsnotdistinct"]),
            method=row["method"],
            where=row["predicate"],
            include=tuple(e[0] for e in raw if not e[5]),
            storage=options(row["reloptions"]),
            concurrently=False,
            comment=row["comment"],
            loc=CATALOG_LOCATION,
        )
        out.add(
            "index",
            m.QName(table.schema, row["name"]).label,
            index,
            definition=row["definition"],
            valid=row["indisvalid"],
        )
