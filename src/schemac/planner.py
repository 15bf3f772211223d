"""What schemac plans around migra's statements, from the two catalogs, and how it reads them.

`shape` reads one of migra's statements with pglast (the parse tree, never a pattern over the
text) as far as the planners need. Routines: migra compares neither `SET` clauses nor argument
defaults, and writes CREATE OR REPLACE where PostgreSQL refuses it (another result type).
Extensions: migra does not compare their schema. Tables are `table_plan`'s, views
`view_plan`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ObjectType

from schemac.naming import quote_ident

USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
)
NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = {classid}::regclass "
    "AND e.objid = {objid} AND e.deptype = 'e')"
)


Name = tuple[str, str]  # schema, relation

# -- what a statement is (the few shapes the planner needs) ---------------------------------------


@dataclass(frozen=True)
class Shape:
    """What the planner needs to know about one statement of migra's."""

    action: str  # drop_view, create_view, drop_table, column_type, create_trigger, ... or other
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
        if node.removeType == ObjectType.OBJECT_TABLE:
            return Shape("drop_table", _qualified(names))
        if node.removeType == ObjectType.OBJECT_INDEX:
            return Shape("drop_index", _qualified(names))
        if node.removeType == ObjectType.OBJECT_TRIGGER and len(names) >= 2:
            *table, trigger = names
            return Shape("drop_trigger", _qualified(tuple(table)), trigger)
    if isinstance(node, ast.AlterExtensionStmt):
        versions = [
            str(getattr(option.arg, "sval", ""))
            for option in node.options or ()
            if isinstance(option, ast.DefElem) and option.defname == "new_version"
        ]
        return Shape("extension_update", None, str(node.extname), versions[0] if versions else None)
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
        if command.subtype == AlterTableType.AT_DropColumn:
            return Shape("drop_column", _range(node.relation), command.name)
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
    WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMAS}
      AND {NOT_EXTENSION_MEMBER.format(classid="'pg_catalog.pg_proc'", objid="p.oid")}
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


# -- routines whose result type changes -----------------------------------------------------------

_ROUTINE_RESULTS = f"""
    SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
               || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           p.prokind::text, coalesce(pg_catalog.pg_get_function_result(p.oid), '')
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMAS}
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


# -- extensions -----------------------------------------------------------------------------------


def read_extensions(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    """Each extension: its schema and version."""
    rows = conn.execute(
        "SELECT e.extname, n.nspname, e.extversion FROM pg_catalog.pg_extension e "
        "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
    ).fetchall()
    return {str(e): (str(n), str(v)) for e, n, v in rows}


def extension_statements(
    statements: list[str],
    current: dict[str, tuple[str, str]],
    desired: dict[str, tuple[str, str]],
) -> list[str]:
    """migra does not compare an extension's schema (it writes an UPDATE to the version already
    installed instead): the extension is moved with SET SCHEMA, and migra's no-op is left out."""
    planned = []
    for statement in statements:
        found = shape(statement)
        if (
            found.action == "extension_update"
            and found.member in current
            and current[found.member][1] == found.index
        ):
            continue
        planned.append(statement)
    moves = [
        f"ALTER EXTENSION {quote_ident(name)} SET SCHEMA {quote_ident(schema)};"
        for name, (schema, _) in sorted(desired.items())
        if name in current and current[name][0] != schema
    ]
    return [*moves, *planned]
