"""What schemac plans around migra's statements, from the two catalogs.

migra diffs most of a schema, but some changes it loses or writes in a way PostgreSQL refuses:

- a routine's `SET` clauses and argument defaults are not compared at all;
- a column type change fails while a view uses the column, and migra drops and re-creates
  views that did not change;
- a materialized view is re-created WITH DATA whatever the YAML says;
- a generated column's expression is not compared;
- the triggers PostgreSQL clones onto the partitions of a partitioned table look to migra like
  triggers of their own, which collide with the clones the parent's trigger makes.

Each function here takes the work database (shadow A being migrated) and the desired one
(shadow B) and returns statements, or filters migra's. Statements are read with pglast (the
parse tree, never a pattern over the text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ObjectType

from schemac.naming import quote_ident, quote_qualified

_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
)
_NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = {classid}::regclass "
    "AND e.objid = {objid} AND e.deptype = 'e')"
)


Name = tuple[str, str]  # schema, relation


# -- what a statement is (the few shapes the planner needs) ---------------------------------------


@dataclass(frozen=True)
class Shape:
    """What the planner needs to know about one statement of migra's."""

    action: str  # drop_view | create_view | create_index | drop_index | column_type | create_trigger | drop_trigger | other
    relation: tuple[str, str] | None = None  # the view, index, table or trigger's table
    member: str | None = None  # the column, trigger, index or constraint name
    index: str | None = None  # ADD CONSTRAINT ... USING INDEX: the index


def _range(var: ast.RangeVar | None) -> tuple[str, str] | None:
    if var is None:
        return None
    return (str(var.schemaname or "public"), str(var.relname))


def shape(statement: str) -> Shape:
    try:
        parsed = parse_sql(statement)
    except Exception:  # pglast raises its own ParseError; a statement it cannot read is "other"
        return Shape("other")
    if len(parsed) != 1:
        return Shape("other")
    node = parsed[0].stmt
    if isinstance(node, ast.DropStmt) and node.objects and len(node.objects) == 1:
        names = tuple(getattr(part, "sval", "") for part in node.objects[0])
        if node.removeType in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            return Shape("drop_view", _qualified(names))
        if node.removeType == ObjectType.OBJECT_INDEX:
            return Shape("drop_index", _qualified(names))
        if node.removeType == ObjectType.OBJECT_TRIGGER and len(names) >= 2:
            *table, trigger = names
            return Shape("drop_trigger", _qualified(tuple(table)), trigger)
    if isinstance(node, ast.ViewStmt):
        return Shape("create_view", _range(node.view))
    if isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_MATVIEW:
        return Shape("create_view", _range(node.into.rel if node.into else None))
    if isinstance(node, ast.IndexStmt):
        return Shape("create_index", _range(node.relation), node.idxname)
    if isinstance(node, ast.CreateTrigStmt):
        return Shape("create_trigger", _range(node.relation), node.trigname)
    if isinstance(node, ast.AlterTableStmt) and node.cmds and len(node.cmds) == 1:
        command = node.cmds[0]
        if command.subtype == AlterTableType.AT_AlterColumnType:
            return Shape("column_type", _range(node.relation), command.name)
        if command.subtype == AlterTableType.AT_ColumnDefault:
            return Shape("column_default", _range(node.relation), command.name)
        if command.subtype == AlterTableType.AT_DropConstraint:
            return Shape("drop_constraint", _range(node.relation), command.name)
        constraint = command.def_
        if (
            command.subtype == AlterTableType.AT_AddConstraint
            and isinstance(constraint, ast.Constraint)
            and constraint.indexname
        ):
            return Shape(
                "constraint_using_index",
                _range(node.relation),
                constraint.conname,
                constraint.indexname,
            )
    return Shape("other")


def _qualified(names: tuple[str, ...]) -> tuple[str, str]:
    return (names[0], names[1]) if len(names) == 2 else ("public", names[-1])


# -- routines: SET clauses and argument defaults --------------------------------------------------

_ROUTINES = f"""
    SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
               || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           pg_catalog.pg_get_functiondef(p.oid), p.pronargdefaults
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND {_USER_SCHEMAS}
      AND {_NOT_EXTENSION_MEMBER.format(classid="'pg_catalog.pg_proc'", objid="p.oid")}
"""


def read_routines(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, int]]:
    """Each routine's full definition (pg_get_functiondef) and its number of defaults."""
    return {str(k): (str(d), int(n)) for k, d, n in conn.execute(_ROUTINES).fetchall()}


def routine_statements(
    current: dict[str, tuple[str, int]], desired: dict[str, tuple[str, int]]
) -> list[str]:
    """CREATE OR REPLACE for each routine whose definition still differs (migra compares neither
    `SET` nor argument defaults). PostgreSQL refuses to remove a default in place, so a routine
    that loses one is dropped first (its grants and comment come back with the supplements)."""
    statements: list[str] = []
    for identity, (definition, defaults) in sorted(desired.items()):
        found = current.get(identity)
        if found is None or found[0] == definition:
            continue
        if defaults < found[1]:
            kind = "PROCEDURE" if "CREATE OR REPLACE PROCEDURE" in definition[:40] else "FUNCTION"
            statements.append(f"DROP {kind} {identity};")
        statements.append(definition.strip() + ";")
    return statements


def routine_differences(
    current: dict[str, tuple[str, int]], desired: dict[str, tuple[str, int]]
) -> list[str]:
    """Routines whose definitions differ, by name (for the verification after replay)."""
    return sorted(
        identity
        for identity in desired.keys() | current.keys()
        if current.get(identity, ("",))[0] != desired.get(identity, ("",))[0]
    )


# -- column order ---------------------------------------------------------------------------------

_COLUMN_ORDER = f"""
    SELECT n.nspname, c.relname, array_agg(a.attname::text ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {_USER_SCHEMAS}
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
                    f"but PostgreSQL appends new columns: the migrated table has the columns "
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
    WHERE {_USER_SCHEMAS}
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
      AND {_NOT_EXTENSION_MEMBER.format(classid="'pg_catalog.pg_class'", objid="c.oid")}
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
    WHERE {_USER_SCHEMAS}
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


# -- generated columns ----------------------------------------------------------------------------

_GENERATED = f"""
    SELECT n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid),
           pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated::text
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attgenerated <> '' AND NOT a.attisdropped AND {_USER_SCHEMAS}
"""


@dataclass(frozen=True)
class GeneratedColumn:
    expression: str
    type: str
    not_null: bool
    stored: bool


def read_generated(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], GeneratedColumn]:
    return {
        (str(s), str(t), str(c)): GeneratedColumn(str(e), str(ty), bool(nn), g == "s")
        for s, t, c, e, ty, nn, g in conn.execute(_GENERATED)
    }


def generated_statements(
    statements: list[str],
    desired: dict[tuple[str, str, str], GeneratedColumn],
    server_version: int,
) -> list[str]:
    """migra writes a changed generation expression as SET DEFAULT, which PostgreSQL refuses.
    PostgreSQL 17 and later change it in place (SET EXPRESSION, which rewrites the table);
    before 17 the column is dropped and added again (it holds nothing but derived values)."""
    planned = []
    for statement in statements:
        found = shape(statement)
        column = (*found.relation, found.member or "") if found.relation else None
        if found.action != "column_default" or column not in desired:
            planned.append(statement)
            continue
        generated = desired[column]
        table, name = quote_qualified(column[0], column[1]), quote_ident(column[2])
        if server_version >= 170000:
            planned.append(
                f"ALTER TABLE {table} ALTER COLUMN {name} SET EXPRESSION AS ({generated.expression});"
            )
            continue
        kind = "STORED" if generated.stored else "VIRTUAL"
        not_null = " NOT NULL" if generated.not_null else ""
        planned.append(f"ALTER TABLE {table} DROP COLUMN {name};")
        planned.append(
            f"ALTER TABLE {table} ADD COLUMN {name} {generated.type} GENERATED ALWAYS AS "
            f"({generated.expression}) {kind}{not_null};"
        )
    return planned


# -- triggers on partitioned tables ---------------------------------------------------------------

_CLONED_TRIGGERS = f"""
    SELECT n.nspname, c.relname, t.tgname
    FROM pg_catalog.pg_trigger t
    JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE t.tgparentid <> 0 AND {_USER_SCHEMAS}
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


# -- routines whose result type changes -----------------------------------------------------------

_ROUTINE_RESULTS = f"""
    SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
               || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           p.prokind::text, coalesce(pg_catalog.pg_get_function_result(p.oid), '')
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND {_USER_SCHEMAS}
"""


def read_routine_results(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    """Each routine's kind (f or p) and result type (pg_get_function_result)."""
    return {str(i): (str(k), str(r)) for i, k, r in conn.execute(_ROUTINE_RESULTS)}


def routine_drops(
    current: dict[str, tuple[str, str]], desired: dict[str, tuple[str, str]]
) -> list[str]:
    """PostgreSQL refuses CREATE OR REPLACE with another result type (or OUT arguments), which
    is what migra writes: such a routine is dropped first, then migra's statement creates it
    (grants and comment come back with the supplements; a dependent object makes the DROP fail
    and the diff names it)."""
    return [
        f"DROP {'PROCEDURE' if kind == 'p' else 'FUNCTION'} {identity};"
        for identity, (kind, result) in sorted(current.items())
        if identity in desired and desired[identity] != (kind, result)
    ]


# -- constraints re-added USING an index that is gone ---------------------------------------------


def read_constraint_definitions(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], str]:
    rows = conn.execute(
        f"""
        SELECT n.nspname, c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid)
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_SCHEMAS}
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
    WHERE c.relkind IN ('r', 'p') AND {_USER_SCHEMAS}
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
