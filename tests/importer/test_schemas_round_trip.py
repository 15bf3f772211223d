"""Small schemas written for these tests, each imported, compiled and rebuilt exactly.

shop.sql: two schemas with foreign keys between them, enums, domains, sequences, identity and
serial columns, keys and checks of every form, indexes of every method, comments and strings
YAML would misread. events.sql: range, list and hash partitions, functions in SQL and
PL/pgSQL of every shape, a procedure, triggers, views and a materialized view. tenants.sql:
row-level security as `tenant:` generates it and as written by hand, the public schema,
extension types and operator classes. library.sql: three schemas that reference one another
(composite and MATCH FULL foreign keys, an exclusion constraint, cross-schema views and
defaults, a trigger with a column list). ledger.sql: routines of every signature (OUT, INOUT,
VARIADIC, defaults, RETURNS TABLE), search_path values as PostgreSQL shows them
(`"$user", public` and the empty path), a definer with its search_path, a statement trigger with a
transition table, function privileges. metrics.sql: range, default and hash partitions,
partitioned, BRIN and GIN indexes, a materialized view left unpopulated. quoted.sql: names
that need quotes (a schema with a space, mixed case, non-ASCII, quotes, a name that looks like
SQL) in every place, and function bodies whose whitespace is kept byte for byte. replication.sql:
publications of every form, replica identities, aggregates and range types across two schemas.
grants.sql: exact privileges (PUBLIC's EXECUTE revoked and kept, grants revoked after the
fact, PUBLIC on a table and a schema) and a superuser grantee written as an external role.
defaults.sql: objects holding less than the default privileges reaching them give (`role: []`,
a smaller list, PUBLIC's, a grant option taken back, schemas under global defaults).
dotted.sql: names with dots in every place (schema, table, column, type, index, policy,
trigger, function, view, sequence) and a foreign key from another dotted schema.
collisions.sql: pairs of objects of every kind whose names joined by dots are the same text
("a.b".c and a."b.c"; trigger "c.x" on a.b and x on a."b.c"), each kept.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from importer.roundtrip import object_counts, round_trip, yaml_files
from schemac.shadow import PostgresServer, scratch_database

SCHEMAS = Path(__file__).resolve().parent / "schemas"


@pytest.mark.parametrize(
    "name",
    [
        "shop",
        "events",
        "tenants",
        "library",
        "ledger",
        "metrics",
        "quoted",
        "replication",
        "telemetry",
        "grants",
        "defaults",
        "dotted",
        "collisions",
    ],
)
def test_schema_imports_compiles_and_rebuilds_the_same_schema(
    name: str, pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / f"{name}.sql").read_text(encoding="utf-8"))
    with scratch_database(pg_server) as rebuilt:
        result = round_trip(pg_server, empty_db, rebuilt, tmp_path)
    print(f"\n{name}: {object_counts(result.import_output)}")
    assert "warning:" not in result.import_output, result.import_output
    assert result.rebuilt_dump == result.original_dump
    assert yaml_files(result.second) == yaml_files(result.first)
    if name == "replication":  # a multirange of the column's own schema is written bare
        written = " ".join(b"".join(yaml_files(result.first).values()).decode().split())
        assert "open_days: {type: shift_multirange}" in written, written
        assert "labels: {type: label_ranges}" in written, written
        assert "spent: {type: analytics.amount_multirange}" in written, written
    if name == "telemetry":  # what a partition holds itself is written on the partition
        written = b"".join(yaml_files(result.first).values()).decode()
        for text in (
            "measurements_2025_frozen:",
            "row_level_security: {enable: true, force: true}",
            "replica_identity: {index: measurements_2025_pkey}",
            "telemetry_reader: [{select: with_grant_option}]",
            "column_grants:",
            "alerts_2026_open:",
        ):
            assert text in written, text
        # the parent's row trigger is declared once, on the parent (its clones are PostgreSQL's)
        assert written.count("measurements_stamped:") == 1, written
