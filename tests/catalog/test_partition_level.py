"""What a partition declares itself (indexes, checks, unique keys, foreign keys, its own
partitions) is read as the partition's; what PostgreSQL copies from its parent is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemac.catalog import CatalogModel, compare_models, read_catalog
from schemac.shadow import PostgresServer, scratch_database

TELEMETRY = Path(__file__).resolve().parents[1] / "importer" / "schemas" / "telemetry.sql"


def read(url: str) -> CatalogModel:
    with psycopg.connect(url) as conn:
        conn.read_only = True
        return read_catalog(conn)


@pytest.fixture
def telemetry(pg_server: PostgresServer) -> Iterator[str]:
    with scratch_database(pg_server) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(TELEMETRY.read_text(encoding="utf-8"))
        yield url


def test_partition_level_objects_are_the_partitions_and_copies_are_not_read(
    telemetry: str,
) -> None:
    model = read(telemetry)
    indexes = set(model.of("index"))
    # Declared on partitions: read; the copies of measurements_at_idx on each partition: not.
    assert {
        "telemetry.measurements_at_idx",
        "telemetry.measurements_2025_value",
        "telemetry.measurements_2026_a_value_idx",
    } <= indexes
    assert not [name for name in indexes if "measurements_2025_at" in name], indexes
    archive = model.of("partition")["telemetry.measurements_2025"]
    assert [c.name for c in archive.constraints] == ["measurements_2025_value_known"]
    assert archive.constraints[0].comment == "Archived rows are complete."
    current = model.of("partition")["telemetry.measurements_2026"]
    assert current.partition_by == "HASH (device_id)"
    assert [c.kind for c in current.constraints] == ["unique"]
    assert model.of("partition")["telemetry.measurements_2026_a"].parent.name == "measurements_2026"
    keys = set(model.of("foreign key"))
    assert "measurements_2025_device_id_fkey on telemetry.measurements_2025" in keys
    # The copies of the primary key and of the unique key on the partitions are PostgreSQL's.
    assert model.of("partition")["telemetry.measurements_2026_a"].constraints == ()
    assert model.of("partition")["telemetry.measurements_default"].constraints == ()
    # What PostgreSQL never passes down: the partition's own flags, identity and grants.
    archive = model.of("partition")["telemetry.measurements_2025"]
    assert (archive.rls_enable, archive.rls_force) == (True, True)
    assert archive.replica_identity == "index measurements_2025_pkey"
    assert [g.role for g in archive.grants] == ["telemetry_reader"]
    assert model.of("partition")["telemetry.measurements_2026"].rls_enable is False
    alerts = model.of("partition")["telemetry.alerts_2025"]
    assert [(c.name, c.grants[0].privileges) for c in alerts.column_grants] == [
        ("note", ("select", "update"))
    ]
    triggers = set(model.of("trigger"))
    assert "measurements_2025_frozen on telemetry.measurements_2025" in triggers
    assert "measurements_stamped on telemetry.measurements_2025" not in triggers  # a clone


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "DROP INDEX telemetry.measurements_2025_value",
            ("index", "telemetry.measurements_2025_value"),
        ),
        (
            "ALTER TABLE telemetry.measurements_2025 DROP CONSTRAINT measurements_2025_value_known",
            ("partition", "telemetry.measurements_2025"),
        ),
        (
            "COMMENT ON CONSTRAINT measurements_2025_value_known ON telemetry.measurements_2025 IS 'Changed.'",
            ("partition", "telemetry.measurements_2025"),
        ),
        (
            "ALTER TABLE telemetry.measurements_2025 DROP CONSTRAINT measurements_2025_device_id_fkey",
            ("foreign key", "measurements_2025_device_id_fkey on telemetry.measurements_2025"),
        ),
        # what a partition holds itself (partown13)
        (
            "ALTER TABLE telemetry.measurements_2025 NO FORCE ROW LEVEL SECURITY",
            ("partition", "telemetry.measurements_2025"),
        ),
        (
            "ALTER TABLE telemetry.measurements_default REPLICA IDENTITY DEFAULT",
            ("partition", "telemetry.measurements_default"),
        ),
        (
            "REVOKE UPDATE (note) ON telemetry.alerts_2025 FROM telemetry_reader",
            ("partition", "telemetry.alerts_2025"),
        ),
        (
            "GRANT INSERT ON telemetry.measurements_2025 TO telemetry_reader",
            ("partition", "telemetry.measurements_2025"),
        ),
        (
            "DROP TRIGGER measurements_2025_frozen ON telemetry.measurements_2025",
            ("trigger", "measurements_2025_frozen on telemetry.measurements_2025"),
        ),
        (
            "DROP POLICY alerts_2026_open ON telemetry.alerts_2026",
            ("policy", "alerts_2026_open on telemetry.alerts_2026"),
        ),
        (
            "ALTER TABLE telemetry.sites ALTER COLUMN id SET INCREMENT BY 3",
            ("table", "telemetry.sites"),
        ),
        (
            "COMMENT ON CONSTRAINT devices_site_id_fkey ON telemetry.devices IS NULL",
            ("foreign key", "devices_site_id_fkey on telemetry.devices"),
        ),
    ],
)
def test_a_hand_made_change_on_a_partition_is_named(
    telemetry: str, change: str, expected: tuple[str, str]
) -> None:
    desired = read(telemetry)
    with psycopg.connect(telemetry, autocommit=True) as conn:
        conn.execute(change)
    found = compare_models(read(telemetry), desired)
    assert {(d.kind, d.name) for d in found} == {expected}, [d.describe() for d in found]
