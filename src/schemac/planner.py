"""What schemac plans around migra's statements, from the two catalogs, and how it reads them.

`shape` is `sql.classify`'s reading of one of migra's statements (its parse tree, never a
pattern over the text) in the few terms the planners need. Routines: migra compares neither `SET` clauses nor argument
defaults, and writes CREATE OR REPLACE where PostgreSQL refuses it (another result type).
Extensions: migra does not compare their schema. Tables are `table_plan`'s, views
`view_plan`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from schemac.naming import quote_ident
from schemac.sql.classify import classify
from schemac.sql.parse import SqlSyntaxError

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


# classify's kind and ALTER TABLE action -> the planner's name for them
_DROPS = {
    "drop view": "drop_view",
    "drop materialized view": "drop_view",
    "drop table": "drop_table",
    "drop index": "drop_index",
}
_ALTER_ACTIONS = {
    "set data type": "column_type",
    "set default": "column_default",
    "drop default": "column_default",
    "drop column": "drop_column",
    "drop constraint": "drop_constraint",
}


def shape(statement: str) -> Shape:
    """The planner's view of one statement, from `sql.classify` (its parse tree)."""
    try:
        found = classify(statement)
    except (SqlSyntaxError, AttributeError, IndexError):  # what classify cannot read is "other"
        return Shape("other")
    relation = (found.schema or "public", found.name) if found.name is not None else None
    table = (found.member_of[0] or "public", found.member_of[1]) if found.member_of else None
    if found.kind in _DROPS:
        return Shape(_DROPS[found.kind], relation)
    if found.kind == "drop trigger" and table is not None:
        return Shape("drop_trigger", table, found.name)
    if found.kind == "alter extension":
        return Shape("extension_update", None, found.name, found.version)
    if found.kind in ("create view", "create materialized view"):
        return Shape("create_view", relation)
    if found.kind == "create index":
        return Shape("create_index", table, found.name)
    if found.kind == "create trigger":
        return Shape("create_trigger", table, found.name)
    if found.kind == "alter table" and len(found.subcommands) == 1:
        command = found.subcommands[0]
        if command.action in _ALTER_ACTIONS:
            return Shape(
                _ALTER_ACTIONS[command.action], relation, command.column or command.constraint
            )
        if command.action == "add constraint" and command.using_index:
            return Shape(
                "constraint_using_index", relation, command.constraint, command.using_index
            )
    return Shape("other")


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


def extension_refusals(
    conn: psycopg.Connection[Any],
    current: dict[str, tuple[str, str]],
    desired: dict[str, tuple[str, str]],
) -> list[str]:
    """Version changes no script of the extension makes (PostgreSQL's update paths, from the
    installed version to the declared one), each named with the reason and what to do."""
    found = []
    for name, (_, version) in sorted(desired.items()):
        installed = current.get(name, (None, None))[1]
        if installed is None or installed == version:
            continue
        paths = dict(
            conn.execute(
                "SELECT source || '>' || target, path IS NOT NULL "
                "FROM pg_catalog.pg_extension_update_paths(%s) "
                "WHERE (source, target) IN ((%s, %s), (%s, %s))",
                (name, installed, version, version, installed),
            ).fetchall()
        )
        if paths.get(f"{installed}>{version}"):
            continue
        if paths.get(f"{version}>{installed}"):
            reason = (
                f"is a downgrade: PostgreSQL has no downgrade path (the extension's scripts "
                f"only go forward, from {version} to {installed})"
            )
        else:
            reason = f"has no update path in the extension's scripts from {installed} to {version}"
        found.append(
            f"extension {name}: version {installed} is installed and the YAML declares "
            f"{version}, which {reason}; declare version {installed} (or leave version: out), "
            "or drop and re-create the extension by hand"
        )
    return found


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
