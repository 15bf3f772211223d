"""Declared renames (`renamed_from:`), applied to the work database before migra runs, so
migra sees no drop and add and the data stays."""

from __future__ import annotations

from typing import Any

import psycopg

from schemac.compiler import Compiled
from schemac.naming import quote_ident, quote_qualified
from schemac.sql.statements import unnamed_index


def _relation_oid(conn: psycopg.Connection[Any], schema: str, name: str) -> int | None:
    row = conn.execute(
        "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    ).fetchone()
    return int(row[0]) if row else None


def _columns(conn: psycopg.Connection[Any], oid: int) -> set[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped",
        (oid,),
    ).fetchall()
    return {str(r[0]) for r in rows}


def apply_renames(
    work: psycopg.Connection[Any], desired: psycopg.Connection[Any], compiled: Compiled
) -> list[str]:
    """ALTER ... RENAME for declared renames (so the data stays), applied to the work database."""
    statements: list[str] = []
    touched: list[tuple[str, str]] = []

    def run(statement: str) -> None:
        work.execute(statement)
        statements.append(statement)

    for _, table in compiled.project.tables:
        schema, name = table.qname.schema, table.qname.name
        if (
            table.renamed_from
            and _relation_oid(work, schema, name) is None
            and _relation_oid(work, schema, table.renamed_from) is not None
        ):
            run(
                f"ALTER TABLE {quote_qualified(schema, table.renamed_from)} RENAME TO {quote_ident(name)};"
            )
            touched.append((schema, name))
    for _, table in compiled.project.tables:
        if not any(column.renamed_from for column in table.columns):
            continue  # two catalog round trips per table are only worth it for a declared rename
        oid = _relation_oid(work, table.qname.schema, table.qname.name)
        if oid is None:
            continue
        present = _columns(work, oid)
        for column in table.columns:
            if (
                column.renamed_from
                and column.name not in present
                and column.renamed_from in present
            ):
                run(
                    f"ALTER TABLE {table.qname.sql} RENAME COLUMN {quote_ident(column.renamed_from)} "
                    f"TO {quote_ident(column.name)};"
                )
                present = (present - {column.renamed_from}) | {column.name}
                touched.append((table.qname.schema, table.qname.name))
    for schema, name in dict.fromkeys(touched):
        for statement in _rename_dependents(work, desired, schema, name):
            run(statement)
    return statements


def _rename_dependents(
    work: psycopg.Connection[Any], desired: psycopg.Connection[Any], schema: str, table: str
) -> list[str]:
    """Constraints and indexes named after the old table or column, renamed to the YAML's names.

    Matched by definition: after the rename a constraint reads the same in both databases,
    only its name (chosen by PostgreSQL from the old names) differs.
    """
    work_oid, desired_oid = (
        _relation_oid(work, schema, table),
        _relation_oid(desired, schema, table),
    )
    if work_oid is None or desired_oid is None:
        return []
    statements: list[str] = []
    constraint_query = (
        "SELECT conname, contype::text || ':' || pg_catalog.pg_get_constraintdef(oid) "
        "FROM pg_catalog.pg_constraint WHERE conrelid = %s"
    )
    current = dict(work.execute(constraint_query, (work_oid,)).fetchall())
    wanted = dict(desired.execute(constraint_query, (desired_oid,)).fetchall())
    statements += [
        f"ALTER TABLE {quote_qualified(schema, table)} RENAME CONSTRAINT {quote_ident(old)} "
        f"TO {quote_ident(new)};"
        for old, new in _renamed_by_definition(current, wanted)
    ]
    index_query = (
        "SELECT c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i "
        "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s AND NOT EXISTS "
        "(SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = i.indrelid "
        "AND k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))"
    )
    # Constraint renames above also rename their indexes; the rest are plain indexes.
    current_indexes = {
        n: unnamed_index(d) for n, d in work.execute(index_query, (work_oid,)).fetchall()
    }
    wanted_indexes = {
        n: unnamed_index(d) for n, d in desired.execute(index_query, (desired_oid,)).fetchall()
    }
    statements += [
        f"ALTER INDEX {quote_qualified(schema, old)} RENAME TO {quote_ident(new)};"
        for old, new in _renamed_by_definition(current_indexes, wanted_indexes)
    ]
    # Identity and serial columns own a sequence named after the table and column; neither migra nor the
    # catalog facts compare those names, so renaming keeps the database as a fresh build names it.
    sequence_query = (
        "SELECT a.attname, s.relname FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.refobjid = %s AND d.deptype IN ('i', 'a') AND d.refobjsubid > 0"
    )
    current_sequences = dict(work.execute(sequence_query, (work_oid,)).fetchall())
    wanted_sequences = dict(desired.execute(sequence_query, (desired_oid,)).fetchall())
    statements += [
        f"ALTER SEQUENCE {quote_qualified(schema, old)} RENAME TO "
        f"{quote_ident(wanted_sequences[column])};"
        for column, old in sorted(current_sequences.items())
        if column in wanted_sequences and wanted_sequences[column] != old
    ]
    return statements


def _renamed_by_definition(
    current: dict[str, str], wanted: dict[str, str]
) -> list[tuple[str, str]]:
    only_current = {name: d for name, d in current.items() if name not in wanted}
    only_wanted = {name: d for name, d in wanted.items() if name not in current}
    pairs = []
    for old, definition in sorted(only_current.items()):
        new = next((n for n, d in sorted(only_wanted.items()) if d == definition), None)
        if new is not None:
            pairs.append((old, new))
            del only_wanted[new]
    return pairs
