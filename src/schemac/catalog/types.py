"""Schemas, extensions, enums, domains and sequences."""

from __future__ import annotations

from typing import Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.queries import (
    USER_NAMESPACE,
    acl,
    acl_entries,
    comment,
    grants_of,
    not_extension_member,
    rows,
)

SCHEMAS = f"""
SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       {acl("n.nspacl", "n", "n.nspowner")} AS acl,
       {comment("pg_namespace", "n.oid")} AS comment
FROM pg_catalog.pg_namespace n
WHERE {USER_NAMESPACE} AND {not_extension_member("pg_namespace", "n.oid")}
ORDER BY n.nspname
"""

EXTENSIONS = f"""
SELECT x.extname AS name, n.nspname AS schema, x.extversion AS version,
       {comment("pg_extension", "x.oid")} AS comment
FROM pg_catalog.pg_extension x
JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
WHERE x.extname <> 'plpgsql'
ORDER BY x.extname
"""

TYPES = f"""
SELECT t.oid, n.nspname AS schema, t.typname AS name, t.typtype,
       ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder) AS labels,
       pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull, t.typdefault,
       CASE WHEN t.typcollation <> 0 AND t.typcollation IS DISTINCT FROM b.typcollation THEN
         (SELECT co.collname FROM pg_catalog.pg_collation co WHERE co.oid = t.typcollation)
       END AS collation,
       ARRAY(SELECT ARRAY[k.conname, pg_catalog.pg_get_constraintdef(k.oid),
                          coalesce({comment("pg_constraint", "k.oid")}, '')]
             FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'
             ORDER BY k.conname) AS checks,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner,
       {acl("t.typacl", "T", "t.typowner")} AS acl,
       {comment("pg_type", "t.oid")} AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
WHERE t.typtype IN ('e', 'd') AND {USER_NAMESPACE} AND {not_extension_member("pg_type", "t.oid")}
ORDER BY n.nspname, t.typname
"""

# Identity sequences (pg_depend 'i') belong to their column; serial ones ('a') are listed.
SEQUENCES = f"""
SELECT n.nspname AS schema, c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type,
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT ARRAY[tn.nspname, tc.relname, a.attname]
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
        LIMIT 1) AS owned_by,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       {acl("c.relacl", "s", "c.relowner")} AS acl,
       {comment("pg_class", "c.oid")} AS comment
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE} AND {not_extension_member("pg_class", "c.oid")}
  AND NOT (c.relname = ANY(%s))
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.objid = c.oid AND d.deptype = 'i')
ORDER BY n.nspname, c.relname
"""


def read_schemas(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, SCHEMAS):
        entries = acl_entries(row["acl"])
        schema = m.Schema(
            row["name"], row["owner"], row["comment"], grants_of(entries), CATALOG_LOCATION
        )
        out.add("schema", row["name"], schema, acl=entries)


def read_extensions(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, EXTENSIONS):
        extension = m.Extension(
            row["name"], row["schema"], row["version"], row["comment"], CATALOG_LOCATION
        )
        out.add("extension", row["name"], extension)


def read_types(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, TYPES):
        qname = m.QName(row["schema"], row["name"])
        extras = {"owner": row["owner"], "acl": acl_entries(row["acl"])}
        if row["typtype"] == "e":
            enum = m.Enum(qname, tuple(row["labels"]), row["comment"], CATALOG_LOCATION)
            out.add("enum", qname.label, enum, **extras)
            continue
        domain = m.Domain(
            qname=qname,
            type=row["base"],
            not_null=bool(row["typnotnull"]),
            default=row["typdefault"],
            collation=row["collation"],
            checks=tuple((name, definition) for name, definition, _ in row["checks"]),
            comment=row["comment"],
            loc=CATALOG_LOCATION,
        )
        out.add("domain", qname.label, domain, **extras)
        for name, _, text in row["checks"]:
            if text:
                out.set_extra("domain", qname.label, f"constraint {name}: comment", text)


def read_sequences(conn: psycopg.Connection[Any], out: CatalogModel, skipped: list[str]) -> None:
    for row in rows(conn, SEQUENCES, (skipped,)):
        qname = m.QName(row["schema"], row["name"])
        entries = acl_entries(row["acl"])
        owned = row["owned_by"]
        sequence = m.Sequence(
            qname=qname,
            type=row["type"],
            start=row["seqstart"],
            increment=row["seqincrement"],
            min_value=row["seqmin"],
            max_value=row["seqmax"],
            cache=row["seqcache"],
            cycle=bool(row["seqcycle"]),
            owned_by=(m.QName(owned[0], owned[1]), owned[2]) if owned else None,
            grants=grants_of(entries),
            comment=row["comment"],
            loc=CATALOG_LOCATION,
        )
        out.add("sequence", qname.label, sequence, owner=row["owner"], acl=entries)
