"""Composite types through `schemac import` and back: the kind added through the registry
(schemac.kinds.composites) is read from pg_catalog, written as `composite_types:`, compiled and
rebuilt into the same schema (pg_dump of both equal)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from importer.roundtrip import round_trip, yaml_files
from schemac.catalog import read_catalog
from schemac.shadow import PostgresServer, scratch_database

SCHEMA = Path(__file__).resolve().parent / "schemas" / "composites.sql"


def test_composite_types_round_trip(
    pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute(SCHEMA.read_text(encoding="utf-8"))
        catalog = read_catalog(connection)
    found = catalog.of("composite type")
    assert sorted(found) == ["geo.address", "geo.point2"]
    assert [(a.name, a.type, a.collation) for a in found["geo.address"].attributes] == [
        ("street", "text", "C"),
        ("zip", "character varying(10)", None),
        ("at", "geo.point2", None),
    ]
    assert found["geo.point2"].comment == "A point on the map."
    # Read with its own class, no longer as an "other" object.
    assert not [name for name in catalog.of("other") if name.startswith("type geo.")]
    with scratch_database(pg_server) as rebuilt:
        result = round_trip(pg_server, empty_db, rebuilt, tmp_path)
    assert "warning:" not in result.import_output, result.import_output
    assert result.rebuilt_dump == result.original_dump
    first = yaml_files(result.first)
    assert yaml_files(result.second) == first
    assert b"composite_types:" in b"".join(first.values())
