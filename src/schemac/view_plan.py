"""Views and materialized views around a migration: re-created only when they change or read
a column whose type changes (PostgreSQL refuses the type change while a view reads the column),
with their options, indexes and `with_data` kept. Dependencies come from pg_depend/pg_rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast, parse_sql

from schemac.naming import quote_qualified
from schemac.planner import NOT_EXTENSION_MEMBER, USER_SCHEMAS, Name, Shape, shape

# -- views and materialized views ----------------------------------------------------------------


@dataclass(frozen=True)
class ViewDefinition:
    kind: str  # v | m
    query: str
    options: tuple[str, ...]
    populated: bool
    indexes: tuple[tuple[str, str], ...]  # (name, pg_get_indexdef) of each index

    @property
    def rebuild_key(self) -> tuple[str, str, bool]:
        """What only a drop and re-create can change."""
        return (self.kind, self.query, self.populated)

    def create(self, schema: str, name: str) -> list[str]:
        target = quote_qualified(schema, name)
        options = f" WITH ({', '.join(self.options)})" if self.options else ""
        query = self.query.strip().rstrip(";")
        if self.kind == "m":
            data = "WITH DATA" if self.populated else "WITH NO DATA"
            return [
                f"CREATE MATERIALIZED VIEW {target}{options} AS\n{query}\n{data};",
                *(f"{definition};" for _, definition in self.indexes),
            ]
        return [f"CREATE VIEW {target}{options} AS\n{query};"]

    def drop(self, schema: str, name: str) -> str:
        kind = "MATERIALIZED VIEW" if self.kind == "m" else "VIEW"
        return f"DROP {kind} {quote_qualified(schema, name)};"


_VIEWS = f"""
    SELECT n.nspname, c.relname, c.relkind::text, pg_catalog.pg_get_viewdef(c.oid),
           coalesce(c.reloptions, '{{}}'), c.relispopulated,
           ARRAY(SELECT ARRAY[i.indexrelid::regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid)]
                 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid ORDER BY 1)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMAS}
      AND {NOT_EXTENSION_MEMBER.format(classid="'pg_catalog.pg_class'", objid="c.oid")}
"""

# (dependent view) -> (relation it reads, column number); column 0 when the whole relation.
_VIEW_DEPENDENCIES = f"""
    SELECT DISTINCT vn.nspname, v.relname, tn.nspname, t.relname, a.attname
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_catalog.pg_rewrite'::regclass
    JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
    JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_class'::regclass
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE v.relkind IN ('v', 'm') AND t.oid <> v.oid AND {USER_SCHEMAS.replace("n.", "vn.")}
"""


def read_views(conn: psycopg.Connection[Any]) -> dict[Name, ViewDefinition]:
    views = {}
    for schema, name, kind, query, options, populated, indexes in conn.execute(_VIEWS):
        views[(str(schema), str(name))] = ViewDefinition(
            str(kind),
            str(query),
            tuple(sorted(options)),
            bool(populated),
            tuple((_index_name(str(n)), str(d)) for n, d in indexes),
        )
    return views


def _index_name(regclass_text: str) -> str:
    """The bare name of an index from its regclass text (qualified when off the search path)."""
    parsed = parse_sql(f"SELECT * FROM {regclass_text}")[0].stmt
    assert isinstance(parsed, ast.SelectStmt) and parsed.fromClause
    relation = parsed.fromClause[0]
    assert isinstance(relation, ast.RangeVar)
    return str(relation.relname)


def read_view_dependencies(
    conn: psycopg.Connection[Any],
) -> dict[Name, set[tuple[Name, str | None]]]:
    """For each relation, the views reading it: (view, column read or None)."""
    readers: dict[Name, set[tuple[Name, str | None]]] = {}
    for view_schema, view, schema, table, column in conn.execute(_VIEW_DEPENDENCIES):
        readers.setdefault((str(schema), str(table)), set()).add(
            ((str(view_schema), str(view)), None if column is None else str(column))
        )
    return readers


@dataclass(frozen=True)
class ViewPlan:
    drops: list[str]  # before migra's statements, dependents first
    statements: list[str]  # migra's, without its drops and creates of the views planned here
    creates: list[str]  # after migra's statements
    rebuilt: list[Name]


def plan_views(
    statements: list[str],
    current: dict[Name, ViewDefinition],
    desired: dict[Name, ViewDefinition],
    readers: dict[Name, set[tuple[Name, str | None]]],
) -> ViewPlan:
    """Re-create exactly the views that change or read what changes; leave the others alone.

    A view is re-created when its definition, options or (materialized) data or indexes differ,
    or when it reads a column whose type changes (PostgreSQL refuses the type change while the
    view exists) or a table that is dropped, and so is every view reading a re-created one. Views only in the desired
    database are created here too, so a materialized view declared `with_data: false` is
    created WITH NO DATA.
    """
    shapes = [shape(statement) for statement in statements]
    # Options are the supplements' (ALTER VIEW ... SET), indexes migra's: neither needs a rebuild.
    changed = {
        name
        for name in desired
        if name in current and current[name].rebuild_key != desired[name].rebuild_key
    }
    for found in shapes:
        if found.action == "drop_table" and found.relation is not None:
            # A table dropped (and perhaps created again) takes the views reading it along.
            changed |= {view for view, _ in readers.get(found.relation, set())}
        if found.action == "column_type" and found.relation is not None:
            changed |= {
                view
                for view, column in readers.get(found.relation, set())
                if column is None or column == found.member
            }
    rebuilt = _closure(changed, readers)
    new = {name for name in desired if name not in current}
    planned = (rebuilt & desired.keys()) | new
    kept = []
    for statement, found in zip(statements, shapes, strict=True):
        if (
            found.action in ("drop_view", "create_view")
            and found.relation is not None
            and (
                found.relation in planned
                or (found.relation in current and found.relation in desired)
            )
        ):
            continue  # planned here, or migra re-creates a view that did not change
        if (
            found.action in ("create_index", "drop_index")
            and found.relation is not None
            and _index_of_planned(found, planned, current, desired)
        ):
            continue  # a re-created materialized view gets every index below
        kept.append(statement)
    order = _dependency_order(readers)
    drops = [
        current[name].drop(*name)
        for name in sorted(rebuilt & current.keys(), key=lambda n: -order.get(n, 0))
    ]
    creates = [
        statement
        for name in sorted(planned, key=lambda n: (order.get(n, 0), n))
        for statement in desired[name].create(*name)
    ]
    return ViewPlan(drops, kept, creates, sorted(rebuilt))


def _index_of_planned(
    found: Shape,
    planned: set[Name],
    current: dict[Name, ViewDefinition],
    desired: dict[Name, ViewDefinition],
) -> bool:
    assert found.relation is not None
    if found.action == "create_index":
        return found.relation in planned
    return any(
        found.relation == (name[0], index)
        for name in planned
        for index, _ in current.get(name, desired[name]).indexes
    )


def _closure(seed: set[Name], readers: dict[Name, set[tuple[Name, str | None]]]) -> set[Name]:
    found = set(seed)
    pending = list(seed)
    while pending:
        for view, _ in readers.get(pending.pop(), set()):
            if view not in found:
                found.add(view)
                pending.append(view)
    return found


def _dependency_order(readers: dict[Name, set[tuple[Name, str | None]]]) -> dict[Name, int]:
    """How deep each view sits on other views (0: reads tables only)."""
    depth: dict[Name, int] = {}
    reads: dict[Name, set[Name]] = {}
    for relation, views in readers.items():
        for view, _ in views:
            reads.setdefault(view, set()).add(relation)

    def visit(name: Name, seen: frozenset[Name]) -> int:
        if name in depth:
            return depth[name]
        parents = [p for p in reads.get(name, set()) if p in reads and p not in seen]
        depth[name] = 1 + max((visit(p, seen | {name}) for p in parents), default=-1)
        return depth[name]

    for name in reads:
        visit(name, frozenset())
    return depth
