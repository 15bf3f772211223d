"""Tables, partitions, views and materialized views, with their columns and constraints."""

from __future__ import annotations

from typing import Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.indexes import read_indexes
from schemac.catalog.queries import (
    USER_NAMESPACE,
    acl,
    acl_entries,
    comment,
    grants_of,
    not_extension_member,
    options,
    rows,
)
from schemac.identity import catalog_options
from schemac.naming import member_label

RELATIONS = f"""
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relpersistence,
       c.relispartition, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
       c.reloptions, c.relispopulated, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = c.relam) AS access_method,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_by,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS bound,
       pn.nspname AS parent_schema, pc.relname AS parent_name,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END AS query,
       (SELECT ic.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic
          ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_index,
       {acl("c.relacl", "r", "c.relowner")} AS acl,
       {comment("pg_class", "c.oid")} AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits h ON h.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = h.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {USER_NAMESPACE}
  AND {not_extension_member("pg_class", "c.oid")} AND NOT (c.relname = ANY(%s))
ORDER BY c.oid
"""

COLUMNS = f"""
SELECT a.attrelid AS rel, a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS expression, a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
         (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname
                      ELSE cn.nspname || '.' || co.collname END
          FROM pg_catalog.pg_collation co
          JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE co.oid = a.attcollation) END AS collation,
       CASE WHEN a.attacl IS NOT NULL THEN
         {acl("a.attacl", "c", "(SELECT r.relowner FROM pg_catalog.pg_class r WHERE r.oid = a.attrelid)")}
       END AS acl,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage,
       NULLIF(a.attcompression::text, '') AS compression,
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS statistics,
       CASE WHEN a.attidentity <> '' THEN
         (SELECT ARRAY[pg_catalog.format_type(s.seqtypid, NULL), s.seqstart::text,
                       s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcache::text,
                       s.seqcycle::text]
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_sequence s ON s.seqrelid = d.objid
          WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
            AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'i')
       END AS identity_sequence,
       {comment("pg_class", "a.attrelid", "a.attnum")} AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""


def _names(array: str, relation: str) -> str:
    return (
        f"ARRAY(SELECT a.attname FROM unnest({array}) WITH ORDINALITY u(num, pos) "
        f"JOIN pg_catalog.pg_attribute a ON a.attrelid = {relation} AND a.attnum = u.num "
        "ORDER BY u.pos)"
    )


CONSTRAINTS = f"""
SELECT k.conrelid AS rel, k.conname AS name, k.contype AS type,
       pg_catalog.pg_get_constraintdef(k.oid) AS definition, k.condeferrable, k.condeferred,
       k.convalidated, k.connoinherit, pg_catalog.pg_get_expr(k.conbin, k.conrelid) AS check_expr,
       {_names("k.conkey", "k.conrelid")} AS columns,
       fn.nspname AS ref_schema, fc.relname AS ref_name,
       {_names("k.confkey", "k.confrelid")} AS ref_columns,
       k.confupdtype, k.confdeltype, k.confmatchtype,
       am.amname AS method, i.indnullsnotdistinct AS nulls_not_distinct,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
       ARRAY(SELECT o.oprname FROM unnest(k.conexclop) WITH ORDINALITY u(op, pos)
             JOIN pg_catalog.pg_operator o ON o.oid = u.op ORDER BY u.pos) AS operators,
       CASE WHEN k.contype = 'x' THEN
         ARRAY(SELECT pg_catalog.pg_get_indexdef(k.conindid, g, true)
               FROM generate_series(1, i.indnkeyatts) g ORDER BY g) END AS elements,
       {comment("pg_constraint", "k.oid")} AS comment
FROM pg_catalog.pg_constraint k
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = k.conindid
LEFT JOIN pg_catalog.pg_class ic ON ic.oid = k.conindid
LEFT JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE k.conrelid = ANY(%s) AND k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conparentid = 0
  AND k.conislocal
ORDER BY k.conrelid, k.conname
"""

_REPLICA_IDENTITY = {"d": "default", "n": "nothing", "f": "full"}
_FK_ACTIONS = {"a": None, "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
_FK_MATCH = {"s": None, "f": "full", "p": "partial"}
_VIEW_OPTIONS = ("security_invoker", "security_barrier", "check_option")


def _boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ("true", "on", "yes", "1")


class Relations:
    """The user's relations by oid, as the other readers need them."""

    def __init__(self) -> None:
        self.names: dict[int, m.QName] = {}
        self.kinds: dict[int, str] = {}  # table | partition | view | materialized view

    def oids(self, *kinds: str) -> list[int]:
        return [oid for oid, kind in self.kinds.items() if not kinds or kind in kinds]


def read_relations(
    conn: psycopg.Connection[Any], out: CatalogModel, skip_relations: list[str]
) -> Relations:
    """Tables, partitions, views and materialized views, each with its columns and constraints."""
    relations = Relations()
    found = rows(conn, RELATIONS, (skip_relations,))
    for row in found:
        relations.names[row["oid"]] = m.QName(row["schema"], row["name"])
        relations.kinds[row["oid"]] = _relation_kind(row)
    columns: dict[int, list[dict[str, Any]]] = {}
    # A partition's columns for their grants only (its parent's are the columns).
    for row in rows(conn, COLUMNS, (relations.oids(),)):
        columns.setdefault(row["rel"], []).append(row)
    constraints: dict[int, list[dict[str, Any]]] = {}
    # A partition's own constraints: its copies of the parent's have a conparentid (keys,
    # foreign keys) or are not local (checks).
    for row in rows(conn, CONSTRAINTS, (relations.oids("table", "partition"),)):
        if row["type"] == "f":
            _add_foreign_key(out, relations.names[row["rel"]], row)
        else:
            constraints.setdefault(row["rel"], []).append(row)
    for row in found:
        kind = relations.kinds[row["oid"]]
        if kind == "table":
            _add_table(out, row, columns.get(row["oid"], []), constraints.get(row["oid"], []))
        elif kind == "partition":
            _add_partition(out, row, columns.get(row["oid"], []), constraints.get(row["oid"], []))
        else:
            _add_view(out, kind, row, columns.get(row["oid"], []))
    read_indexes(conn, out, relations)  # catalog/indexes.py
    return relations


def _relation_kind(row: dict[str, Any]) -> str:
    if row["relkind"] == "v":
        return "view"
    if row["relkind"] == "m":
        return "materialized view"
    return "partition" if row["relispartition"] else "table"


def _common_extras(row: dict[str, Any]) -> dict[str, Any]:
    return {"owner": row["owner"], "acl": acl_entries(row["acl"])}


def _column(row: dict[str, Any]) -> m.Column:
    generated = row["expression"] if row["attgenerated"] else None
    identity = {"a": "always", "d": "by_default"}.get(row["attidentity"])
    return m.Column(
        name=row["name"],
        type=row["type"],
        not_null=bool(row["attnotnull"]),
        default=None if generated else row["expression"],
        identity=identity,
        generated=generated,
        collation=row["collation"],
        renamed_from=None,
        comment=row["comment"],
        loc=CATALOG_LOCATION,
        identity_options=catalog_options(row["type"], row["identity_sequence"]),
        generated_virtual=row["attgenerated"] == "v",
        grants=grants_of(acl_entries(row["acl"] or [])),
    )


def _constraint(row: dict[str, Any]) -> m.Constraint:
    kind = {"p": "primary_key", "u": "unique", "c": "check", "x": "exclusion"}[row["type"]]
    elements: tuple[tuple[str, str], ...] = ()
    if kind == "exclusion":
        elements = tuple(zip(row["elements"] or (), row["operators"] or (), strict=False))
    return m.Constraint(
        kind=kind,
        name=row["name"],
        columns=tuple(row["columns"] or ()) if kind != "check" else (),
        expression=row["check_expr"] if kind == "check" else None,
        nulls_not_distinct=bool(row["nulls_not_distinct"]),
        deferrable=bool(row["condeferrable"]),
        initially_deferred=bool(row["condeferred"]),
        using=row["method"] if kind == "exclusion" else None,
        elements=elements,
        where=row["predicate"],
        loc=CATALOG_LOCATION,
        comment=row["comment"],
    )


def _add_table(
    out: CatalogModel,
    row: dict[str, Any],
    columns: list[dict[str, Any]],
    constraints: list[dict[str, Any]],
) -> None:
    qname = m.QName(row["schema"], row["name"])
    entries = acl_entries(row["acl"])
    replica = _REPLICA_IDENTITY.get(row["relreplident"], f"index {row['identity_index']}")
    table = m.Table(
        qname=qname,
        columns=tuple(_column(c) for c in columns),
        constraints=tuple(_constraint(c) for c in constraints),
        unlogged=row["relpersistence"] == "u",
        partition_by=row["partition_by"],
        rls_enable=bool(row["relrowsecurity"]),
        rls_force=bool(row["relforcerowsecurity"]),
        renamed_from=None,
        grants=grants_of(entries),
        comment=row["comment"],
        loc=CATALOG_LOCATION,
        replica_identity=replica,
    )
    name = qname.label
    out.add(
        "table", name, table, owner=row["owner"], acl=entries, options=options(row["reloptions"])
    )
    if row["access_method"] not in (None, "heap"):
        out.set_extra("table", name, "access method", row["access_method"])
    for column in columns:
        _column_extras(out, name, column)
    _constraint_extras(out, "table", name, constraints)


def _constraint_extras(
    out: CatalogModel, kind: str, name: str, constraints: list[dict[str, Any]]
) -> None:
    for constraint in constraints:
        prefix = f"constraint {constraint['name']}: "
        out.set_extra(kind, name, prefix + "definition", constraint["definition"])
        out.set_extra(kind, name, prefix + "validated", constraint["convalidated"])
        out.set_extra(kind, name, prefix + "no inherit", constraint["connoinherit"])


# Column attributes the YAML cannot declare (yet), read only where they are not the default.
# (Identity options and virtual generation are model fields.)
_COLUMN_EXTRAS = {
    "storage": "storage",
    "compression": "compression",
    "statistics": "statistics",
}


def _column_extras(out: CatalogModel, table: str, column: dict[str, Any]) -> None:
    prefix = f"column {column['name']}: "
    # compared like the table's acl (imported as the column's grants:); an ACL emptied by
    # REVOKE ('{}') holds what none (NULL) does
    if column["acl"]:
        out.set_extra("table", table, prefix + "acl", acl_entries(column["acl"]))
    for key, attribute in _COLUMN_EXTRAS.items():
        value = column[key]
        if value:
            shown = tuple(value) if isinstance(value, list) else value
            out.set_extra("table", table, prefix + attribute, shown)


def _add_foreign_key(out: CatalogModel, table: m.QName, row: dict[str, Any]) -> None:
    key = m.ForeignKey(
        name=row["name"],
        table=table,
        columns=tuple(row["columns"]),
        ref_table=m.QName(row["ref_schema"], row["ref_name"]),
        ref_columns=tuple(row["ref_columns"]),
        on_delete=_FK_ACTIONS.get(row["confdeltype"]),
        on_update=_FK_ACTIONS.get(row["confupdtype"]),
        match=_FK_MATCH.get(row["confmatchtype"]),
        deferrable=bool(row["condeferrable"]),
        initially_deferred=bool(row["condeferred"]),
        loc=CATALOG_LOCATION,
        comment=row["comment"],
    )
    out.add(
        "foreign key",
        member_label(row["name"], table.label),
        key,
        definition=row["definition"],
        validated=row["convalidated"],
    )


def _add_partition(
    out: CatalogModel,
    row: dict[str, Any],
    columns: list[dict[str, Any]],
    constraints: list[dict[str, Any]],
) -> None:
    """A partition with what it holds itself: its parent's columns are not its own, but their
    grants on it are (`column_grants:`, compared as the `column X: acl` extras)."""
    qname = m.QName(row["schema"], row["name"])
    granted = [c for c in columns if c["acl"]]
    partition = m.Partition(
        qname=qname,
        parent=m.QName(row["parent_schema"], row["parent_name"]),
        bound=row["bound"],
        comment=row["comment"],
        loc=CATALOG_LOCATION,
        constraints=tuple(_constraint(c) for c in constraints),
        partition_by=row["partition_by"],
        rls_enable=bool(row["relrowsecurity"]),
        rls_force=bool(row["relforcerowsecurity"]),
        replica_identity=_REPLICA_IDENTITY.get(
            row["relreplident"], f"index {row['identity_index']}"
        ),
        grants=grants_of(acl_entries(row["acl"])),
        column_grants=tuple(
            m.ColumnGrants(c["name"], grants_of(acl_entries(c["acl"]))) for c in granted
        ),
    )
    out.add(
        "partition",
        qname.label,
        partition,
        **_common_extras(row),
        options=options(row["reloptions"]),
    )
    for column in granted:
        out.set_extra(
            "partition", qname.label, f"column {column['name']}: acl", acl_entries(column["acl"])
        )
    _constraint_extras(out, "partition", qname.label, constraints)


def _add_view(
    out: CatalogModel, kind: str, row: dict[str, Any], columns: list[dict[str, Any]]
) -> None:
    qname = m.QName(row["schema"], row["name"])
    settings = dict(options(row["reloptions"]))
    entries = acl_entries(row["acl"])
    view = m.View(
        qname=qname,
        query=row["query"],
        columns=tuple(c["name"] for c in columns),
        materialized=kind == "materialized view",
        with_data=bool(row["relispopulated"]),
        security_invoker=_boolean(settings.get("security_invoker")),
        security_barrier=_boolean(settings.get("security_barrier")),
        check_option=settings.get("check_option"),
        depends_on=(),
        grants=grants_of(entries),
        column_comments=tuple((c["name"], c["comment"]) for c in columns if c["comment"]),
        comment=row["comment"],
        loc=CATALOG_LOCATION,
    )
    other = tuple((k, v) for k, v in sorted(settings.items()) if k not in _VIEW_OPTIONS)
    out.add(kind, qname.label, view, owner=row["owner"], acl=entries, options=other)
