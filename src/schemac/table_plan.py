"""Tables around migra's statements: what it loses or writes in a way PostgreSQL refuses.

Index definitions (storage parameters, NULLS NOT DISTINCT, operator classes, collations) and
partition bounds are not compared by migra; a changed generation expression comes out as SET
DEFAULT; the triggers PostgreSQL clones onto partitions look like triggers of their own; a key
re-added USING its own index finds the index gone; and a column added to the middle of a
table in YAML is appended. Each function reads both catalogs or filters migra's statements
(read with pglast through `planner.shape`). Partitioned tables' indexes and keys are
`partition_plan`'s, generated columns `generated_plan`'s (both re-exported here).
"""

from __future__ import annotations

from typing import Any

import psycopg

from schemac.generated_plan import GeneratedColumn as GeneratedColumn
from schemac.generated_plan import drops_only_derived_values as drops_only_derived_values
from schemac.generated_plan import generated_statements as generated_statements
from schemac.generated_plan import read_generated as read_generated
from schemac.generated_plan import virtual_statements as virtual_statements
from schemac.identity import alter_clauses, catalog_options
from schemac.naming import quote_ident, quote_qualified
from schemac.partition_plan import drops_inherited as drops_inherited
from schemac.partition_plan import key_using_index as key_using_index
from schemac.partition_plan import repair_partitioned as repair_partitioned
from schemac.planner import NOT_EXTENSION_MEMBER, USER_SCHEMAS, Name, shape

# -- column order ---------------------------------------------------------------------------------

_COLUMN_ORDER = f"""
    SELECT n.nspname, c.relname, array_agg(a.attname::text ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {USER_SCHEMAS}
    GROUP BY n.nspname, c.relname
"""


def read_column_order(conn: psycopg.Connection[Any]) -> dict[Name, tuple[str, ...]]:
    return {(str(s), str(t)): tuple(columns) for s, t, columns in conn.execute(_COLUMN_ORDER)}


def column_order_warnings(
    current: dict[Name, tuple[str, ...]], desired: dict[Name, tuple[str, ...]]
) -> list[str]:
    """Columns the migrated table holds in another order than the YAML declares them.

    PostgreSQL appends a column added by ALTER TABLE; a fresh build (the desired state) keeps
    the YAML's order. Nothing is lost, but the two databases list their columns differently,
    so the user is told which column and what to do.
    """
    warnings = []
    for name, wanted in sorted(desired.items()):
        found = current.get(name)
        if found is None or found == wanted or sorted(found) != sorted(wanted):
            continue
        for position, column in enumerate(wanted):
            if found.index(column) != position:
                after = wanted[position - 1] if position else None
                where = f"after column {after}" if after else "first"
                warnings.append(
                    f"column {column} of {name[0]}.{name[1]} is declared {where} in the YAML, "
                    f"but PostgreSQL adds columns at the end of a table: the migrated one has the columns "
                    f"in the order {', '.join(found)}. Move {found[-1]} to the end of the "
                    "table's columns in the YAML to make them agree (a fresh build follows the "
                    "YAML), or accept the order"
                )
                break
    return warnings


# -- index definitions and partition bounds -------------------------------------------------------

# Plain indexes (not those of constraints, not a partition's clone of its parent's index), by
# name: migra compares neither storage parameters, NULLS NOT DISTINCT, operator classes nor
# collations of an index.
_INDEXES = f"""
    SELECT n.nspname, c.relname, pg_catalog.pg_get_indexdef(i.indexrelid)
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMAS}
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
      AND {NOT_EXTENSION_MEMBER.format(classid="'pg_catalog.pg_class'", objid="c.oid")}
"""


def read_indexes(conn: psycopg.Connection[Any]) -> dict[Name, str]:
    return {(str(s), str(n)): str(d) for s, n, d in conn.execute(_INDEXES)}


def index_statements(current: dict[Name, str], desired: dict[Name, str]) -> list[str]:
    """DROP and CREATE for each index whose definition still differs after migra's statements."""
    statements = []
    for name, definition in sorted(desired.items()):
        if name in current and current[name] != definition:
            statements.append(f"DROP INDEX {quote_qualified(*name)};")
            statements.append(f"{definition};")
    return statements


_PARTITION_BOUNDS = f"""
    SELECT n.nspname, c.relname, pn.nspname, p.relname,
           pg_catalog.pg_get_expr(c.relpartbound, c.oid)
    FROM pg_catalog.pg_inherits h
    JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid AND c.relispartition AND c.relkind IN ('r', 'p')
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_class p ON p.oid = h.inhparent
    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
    WHERE {USER_SCHEMAS}
"""


def read_partition_bounds(conn: psycopg.Connection[Any]) -> dict[Name, tuple[Name, str]]:
    """Each partition: its parent and its bound (`FOR VALUES ...` or `DEFAULT`)."""
    return {
        (str(s), str(t)): ((str(ps), str(pt)), str(bound))
        for s, t, ps, pt, bound in conn.execute(_PARTITION_BOUNDS)
    }


def partition_statements(
    current: dict[Name, tuple[Name, str]], desired: dict[Name, tuple[Name, str]]
) -> list[str]:
    """migra does not compare partition bounds: a partition whose bound changes is detached and
    attached again with the new bound (PostgreSQL checks its rows against the new bound)."""
    statements = []
    for name, (parent, bound) in sorted(desired.items()):
        found = current.get(name)
        if found is not None and found[0] == parent and found[1] != bound:
            parent_sql, partition_sql = quote_qualified(*parent), quote_qualified(*name)
            statements.append(f"ALTER TABLE {parent_sql} DETACH PARTITION {partition_sql};")
            statements.append(f"ALTER TABLE {parent_sql} ATTACH PARTITION {partition_sql} {bound};")
    return statements


# -- identity options -----------------------------------------------------------------------------

_IDENTITIES = f"""
    SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, NULL),
           ARRAY[pg_catalog.format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text,
                 s.seqmin::text, s.seqmax::text, s.seqcache::text, s.seqcycle::text]
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
      AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = d.objid
    WHERE a.attidentity <> '' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {USER_SCHEMAS}
"""

Identity = tuple[str, tuple[tuple[str, int | bool], ...]]  # column type, options


def read_identities(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], Identity]:
    """Each identity column's sequence options (those that differ from the defaults)."""
    return {
        (str(s), str(t), str(c)): (str(ty), catalog_options(str(ty), list(sequence)))
        for s, t, c, ty, sequence in conn.execute(_IDENTITIES)
    }


def identity_statements(
    current: dict[tuple[str, str, str], Identity], desired: dict[tuple[str, str, str], Identity]
) -> list[str]:
    """migra compares whether a column is an identity, not its sequence's options: an identity
    whose options still differ after migra's statements gets them set in place (ALTER COLUMN
    ... SET INCREMENT BY ...; its next value is left as it is)."""
    statements = []
    for column, (type_name, options) in sorted(desired.items()):
        found = current.get(column)
        if found is None or found[1] == options:
            continue
        clauses = alter_clauses(type_name, found[1], options)
        table, name = quote_qualified(column[0], column[1]), quote_ident(column[2])
        statements.append(f"ALTER TABLE {table} ALTER COLUMN {name} {' '.join(clauses)};")
    return statements


# -- triggers on partitioned tables ---------------------------------------------------------------

_CLONED_TRIGGERS = f"""
    SELECT n.nspname, c.relname, t.tgname
    FROM pg_catalog.pg_trigger t
    JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE t.tgparentid <> 0 AND {USER_SCHEMAS}
"""


def read_cloned_triggers(conn: psycopg.Connection[Any]) -> set[tuple[str, str, str]]:
    """Triggers PostgreSQL cloned onto partitions from their parent's trigger."""
    return {(str(s), str(t), str(g)) for s, t, g in conn.execute(_CLONED_TRIGGERS)}


def without_cloned_triggers(
    statements: list[str],
    current: set[tuple[str, str, str]],
    desired: set[tuple[str, str, str]],
) -> list[str]:
    """migra reads a partition's clone of its parent's trigger as a trigger of its own and
    creates (or drops) it beside the parent's, where the clone already is (or goes with the
    parent's): the clones are PostgreSQL's, so their statements are left out."""
    kept = []
    for statement in statements:
        found = shape(statement)
        if found.relation is not None and found.member is not None:
            trigger = (*found.relation, found.member)
            if found.action == "create_trigger" and trigger in desired:
                continue
            if found.action == "drop_trigger" and trigger in current:
                continue
        kept.append(statement)
    return kept


# -- constraints re-added USING an index that is gone ---------------------------------------------


def read_constraint_definitions(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], str]:
    rows = conn.execute(
        f"""
        SELECT n.nspname, c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid)
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE {USER_SCHEMAS}
        """
    ).fetchall()
    return {(str(s), str(t), str(k)): str(d) for s, t, k, d in rows}


def constraints_without_their_index(
    statements: list[str], desired: dict[tuple[str, str, str], str]
) -> list[str]:
    """migra re-adds a changed key `USING INDEX` its own name, but the old constraint took that
    index with it when it was dropped, and nothing creates it again: such a constraint is added
    from its full definition instead."""
    shapes = [shape(statement) for statement in statements]
    created = {
        (f.relation[0], f.member) for f in shapes if f.action == "create_index" and f.relation
    }
    dropped = {
        (*f.relation, f.member) for f in shapes if f.action == "drop_constraint" and f.relation
    }
    planned = []
    for statement, found in zip(statements, shapes, strict=True):
        if found.action == "constraint_using_index" and found.relation and found.member:
            key = (*found.relation, found.member)
            if (
                key in dropped
                and (found.relation[0], found.index) not in created
                and key in desired
            ):
                table = quote_qualified(*found.relation)
                planned.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote_ident(found.member)} "
                    f"{desired[key]};"
                )
                continue
        planned.append(statement)
    return planned


# -- what PostgreSQL cannot change in place -------------------------------------------------------

_RELATION_KINDS = f"""
    SELECT n.nspname, c.relname, c.relkind::text
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS}
"""


def read_table_kinds(conn: psycopg.Connection[Any]) -> dict[Name, str]:
    return {(str(s), str(t)): str(k) for s, t, k in conn.execute(_RELATION_KINDS)}


def impossible_changes(current: dict[Name, str], desired: dict[Name, str]) -> list[str]:
    """Changes PostgreSQL has no statement for, each named with what to do instead."""
    found = []
    for name, kind in sorted(desired.items()):
        before = current.get(name)
        if before is None or before == kind:
            continue
        table = f"{name[0]}.{name[1]}"
        if kind == "p":
            found.append(
                f"table {table}: PostgreSQL cannot turn an existing table into a partitioned "
                "one; declare a new partitioned table and move the rows in a migration "
                "written by hand, or drop partition_by"
            )
        else:
            found.append(
                f"table {table}: PostgreSQL cannot turn a partitioned table into a plain one; "
                "declare a new table and move the rows in a migration written by hand"
            )
    return found
