"""Publications: what logical replication sends, table by table (PostgreSQL 15+ catalogs)."""

from __future__ import annotations

from typing import Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.queries import comment, rows

PUBLICATIONS = f"""
SELECT p.pubname AS name, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate,
       p.pubviaroot, pg_catalog.pg_get_userbyid(p.pubowner) AS owner,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                 n.nspname, c.relname,
                 ARRAY(SELECT a.attname FROM unnest(r.prattrs::pg_catalog.int2[]) u(num)
                       JOIN pg_catalog.pg_attribute a
                         ON a.attrelid = r.prrelid AND a.attnum = u.num ORDER BY a.attnum),
                 pg_catalog.pg_get_expr(r.prqual, r.prrelid)) ORDER BY n.nspname, c.relname)
        FROM pg_catalog.pg_publication_rel r
        JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE r.prpubid = p.oid) AS tables,
       ARRAY(SELECT n.nspname FROM pg_catalog.pg_publication_namespace pn
             JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid
             WHERE pn.pnpubid = p.oid ORDER BY n.nspname) AS schemas,
       {comment("pg_publication", "p.oid")} AS comment
FROM pg_catalog.pg_publication p
ORDER BY p.pubname
"""


def read_publications(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, PUBLICATIONS):
        actions = ("insert", "update", "delete", "truncate")
        flags = (row["pubinsert"], row["pubupdate"], row["pubdelete"], row["pubtruncate"])
        publication = m.Publication(
            name=row["name"],
            all_tables=bool(row["puballtables"]),
            publish=tuple(action for action, on in zip(actions, flags, strict=True) if on),
            via_root=bool(row["pubviaroot"]),
            tables=tuple(
                m.PublicationTable(m.QName(schema, table), tuple(columns or ()), where)
                for schema, table, columns, where in row["tables"] or ()
            ),
            schemas=tuple(row["schemas"]),
            comment=row["comment"],
            loc=CATALOG_LOCATION,
        )
        out.add("publication", row["name"], publication, owner=row["owner"])
