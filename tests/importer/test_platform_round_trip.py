"""The e-learning platform imported from its own database, compiled, and rebuilt exactly."""

from __future__ import annotations

from pathlib import Path

import psycopg

from importer.roundtrip import object_counts, round_trip, yaml_files
from schemac.shadow import PostgresServer, scratch_database

REPO = Path(__file__).resolve().parents[2]


def test_platform_imports_compiles_and_rebuilds_the_same_schema(
    pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((REPO / "generated" / "desired-state.sql").read_text(encoding="utf-8"))
    with scratch_database(pg_server) as rebuilt:
        result = round_trip(pg_server, empty_db, rebuilt, tmp_path)
    print(f"\nplatform: {object_counts(result.import_output)}")
    assert "warning:" not in result.import_output, result.import_output
    assert result.rebuilt_dump == result.original_dump
    assert yaml_files(result.second) == yaml_files(result.first)
