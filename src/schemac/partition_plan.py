"""Partitioned tables around migra's statements: the indexes and keys PostgreSQL builds (and
drops) on the partitions itself, from the parent's definition.

migra reads a partitioned table's indexes and keys one relation at a time, as the catalog
lists them; PostgreSQL refuses several of the statements that gives, and it writes a partition
that is partitioned again (a sub-partitioned one) as a statement that does not parse.
`repair_partitioned` leaves out or rewrites those, reading the statements with pglast.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import parser

from schemac.naming import quote_ident, quote_qualified
from schemac.sql.classify import Classified, classify
from schemac.sql.names import unquote
from schemac.sql.parse import SqlSyntaxError
from schemac.sql.statements import index_info, without_only

_INHERITED_INDEXES = (
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_inherits i "
    "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('i', 'I')"
)
_INHERITED_CONSTRAINTS = (
    "SELECT n.nspname, k.conname FROM pg_catalog.pg_constraint k "
    "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace WHERE k.conparentid <> 0"
)
_PARENT_KEYS = (
    "SELECT n.nspname, k.conname, pg_catalog.pg_get_constraintdef(k.oid) "
    "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class t ON t.oid = k.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace "
    "WHERE t.relkind = 'p' AND k.contype IN ('p', 'u', 'x')"
)


# Partitions that are partitioned again: migra writes them as `create table ... partition by
# <their bound>`, which does not parse; they are created from the catalog instead.
_PARTITIONED_PARTITIONS = (
    "SELECT n.nspname, c.relname, pn.nspname, p.relname, "
    "pg_catalog.pg_get_expr(c.relpartbound, c.oid), pg_catalog.pg_get_partkeydef(c.oid) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_inherits h ON h.inhrelid = c.oid "
    "JOIN pg_catalog.pg_class p ON p.oid = h.inhparent "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
    "WHERE c.relkind = 'p' AND c.relispartition"
)


def partitioned_partitions(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], str]:
    """Each partition that is partitioned again, with the statement that creates it."""
    return {
        (str(s), str(n)): (
            f"CREATE TABLE {quote_qualified(str(s), str(n))} PARTITION OF "
            f"{quote_qualified(str(ps), str(pn))} {bound} PARTITION BY {key};"
        )
        for s, n, ps, pn, bound, key in conn.execute(_PARTITIONED_PARTITIONS).fetchall()
    }


def created_table(statement: str) -> tuple[str, str] | None:
    """(schema, table) of a statement that starts `CREATE TABLE schema.table`, read by
    PostgreSQL's lexer (the statement itself need not parse)."""
    try:
        tokens = parser.scan(statement)
    except parser.ParseError:
        return None
    if len(tokens) < 5 or [t.name for t in tokens[:4]] != ["CREATE", "TABLE", "IDENT", "ASCII_46"]:
        return None
    if tokens[4].name != "IDENT":
        return None
    schema, name = (unquote(statement[t.start : t.end + 1]) for t in (tokens[2], tokens[4]))
    return schema, name


def sub_partition_statement(desired_url: str, statement: str) -> str | None:
    """The statement that creates the sub-partitioned partition migra's unparseable
    `create table ... partition by <bound>` stands for, from the desired database; None for
    any other statement."""
    created = created_table(statement)
    if created is None:
        return None
    with psycopg.connect(desired_url) as conn:
        conn.read_only = True
        return partitioned_partitions(conn).get(created)


def _names(conn: psycopg.Connection[Any], query: str) -> set[tuple[str, str]]:
    return {(str(schema), str(name)) for schema, name in conn.execute(query).fetchall()}


def repair_partitioned(
    desired: psycopg.Connection[Any],
    statements: list[str],
    current: psycopg.Connection[Any] | None = None,
) -> list[str]:
    """migra writes a partitioned table's indexes as PostgreSQL reports them: `ON ONLY` the
    parent (an index that stays invalid until every partition's index is attached, which migra
    never does), one index per partition, and keys added `USING INDEX` (which PostgreSQL
    refuses on a partitioned table). PostgreSQL builds all of that itself from the parent's
    definition, so: indexes and key constraints a partition inherits are left out, an index
    on the parent is created without ONLY (it cascades to the partitions), and a key of the
    parent is added from its definition.

    The other way (`current`, the database being migrated): migra drops a partition's
    inherited indexes and key constraints one by one, which PostgreSQL refuses; they go with
    the partition, or with the parent's index or key, so those drops are left out."""
    inherited_indexes = _names(desired, _INHERITED_INDEXES)
    inherited_constraints = _names(desired, _INHERITED_CONSTRAINTS)
    parent_keys = {
        (str(schema), str(name)): str(definition)
        for schema, name, definition in desired.execute(_PARENT_KEYS).fetchall()
    }
    dropped_with_their_parent = (
        (_names(current, _INHERITED_INDEXES), _names(current, _INHERITED_CONSTRAINTS))
        if current is not None
        else (set(), set())
    )
    statements = without_drops_of_dropped_partitions(statements, current)
    if not (inherited_indexes or parent_keys or any(dropped_with_their_parent)):
        return statements
    repaired: list[str] = []
    for statement in statements:
        try:
            index = index_info(statement)
            found = classify(statement)
        except SqlSyntaxError:
            repaired.append(statement)  # not schemac's to read; verification will judge it
            continue
        if drops_inherited(found, *dropped_with_their_parent):
            continue
        if index is not None and index.schema is not None and index.name is not None:
            name = (index.schema, index.name)
            if name in inherited_indexes or name in parent_keys:
                continue  # built by the partition's parent, or by the key added below
            repaired.append(without_only(statement))
            continue
        key = key_using_index(found)
        if key is not None:
            if key in inherited_constraints:
                continue
            if key in parent_keys:
                repaired.append(
                    f"alter table {quote_qualified(key[0], str(found.name))} add constraint "
                    f"{quote_ident(key[1])} {parent_keys[key]};"
                )
                continue
        repaired.append(statement)
    return repaired


_PARTITION_PARENTS = (
    "SELECT n.nspname, c.relname, pn.nspname, p.relname FROM pg_catalog.pg_inherits h "
    "JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid AND c.relispartition "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_class p ON p.oid = h.inhparent "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE c.relkind IN ('r', 'p')"
)


def without_drops_of_dropped_partitions(
    statements: list[str], current: psycopg.Connection[Any] | None
) -> list[str]:
    """migra drops a sub-partitioned partition and then each of its partitions, which went
    with it: the drop of a partition whose parent (at any depth) is dropped too is left out."""
    if current is None:
        return statements
    parents = {
        (str(s), str(n)): (str(ps), str(pn))
        for s, n, ps, pn in current.execute(_PARTITION_PARENTS).fetchall()
    }
    dropped: set[tuple[str, str]] = set()
    for statement in statements:
        try:
            found = classify(statement)
        except SqlSyntaxError:
            continue
        if found.kind == "drop table" and found.name is not None:
            dropped.add((found.schema or "public", str(found.name)))

    def goes_with_its_parent(table: tuple[str, str]) -> bool:
        parent = parents.get(table)
        while parent is not None:
            if parent in dropped:
                return True
            parent = parents.get(parent)
        return False

    kept = []
    for statement in statements:
        try:
            found = classify(statement)
        except SqlSyntaxError:
            kept.append(statement)
            continue
        table = (found.schema or "public", str(found.name))
        if found.kind == "drop table" and found.name is not None and goes_with_its_parent(table):
            continue
        kept.append(statement)
    return kept


def drops_inherited(
    found: Classified, indexes: set[tuple[str, str]], constraints: set[tuple[str, str]]
) -> bool:
    """Whether a statement only drops indexes or constraints a partition inherits (given as
    (schema, name)): a DROP INDEX of one, or an ALTER TABLE whose every action drops one."""
    if found.kind == "drop index":
        return found.schema is not None and (found.schema, str(found.name)) in indexes
    if found.kind != "alter table" or found.schema is None or not found.subcommands:
        return False
    return all(
        command.action == "drop constraint" and (found.schema, command.constraint) in constraints
        for command in found.subcommands
    )


def key_using_index(found: Classified) -> tuple[str, str] | None:
    """(schema, constraint) of an ``ALTER TABLE ... ADD CONSTRAINT k ... USING INDEX i`` that
    does nothing else; None for any other statement."""
    if found.kind != "alter table" or found.schema is None or len(found.subcommands) != 1:
        return None
    command = found.subcommands[0]
    if command.action != "add constraint" or not command.using_index or not command.constraint:
        return None
    return found.schema, command.constraint
