"""Attributes of tables and columns a project targeting PostgreSQL 18 may declare: virtual
generated columns, migrated by `schemac diff` and proven by `schemac check` and the pg_dump
oracle (the session server is PostgreSQL 18, as the project's target)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from diff.oracle import assert_migrations_build_desired_state
from diff.support import Project, flyway_migrate, ok
from diff.test_changes import diff_and_prove
from schemac.shadow import PostgresServer

SENSORS = """\
schema: telemetry
tables:
  sensors:
    columns:
      id: {type: bigint, identity: {generated: always, start: 10}, primary_key: true}
      celsius: {type: numeric, not_null: true}
      kelvin: {type: numeric, generated: celsius + 273.15}
"""
FILE = "schema/01_telemetry.yaml"


def compiled(
    root: Path, settings: str, schema: str, dev_url: str, server: PostgresServer
) -> Project:
    """A project of one schema file, compiled: its baseline is V001."""
    (root / "schema").mkdir(parents=True)
    (root / "schemac.yaml").write_text(settings, "utf-8")
    (root / FILE).write_text(schema, "utf-8")
    ok(run_schemac("compile", cwd=root))
    return Project(root, dev_url, server)


@pytest.fixture
def pg18(tmp_path: Path, dev_url: str, pg_server: PostgresServer) -> Project:
    if pg_server.version < 180000:
        pytest.skip("virtual generated columns need a PostgreSQL 18 server")
    settings = "version_width: 3\npostgres_version: 18\n"
    return compiled(tmp_path / "project", settings, SENSORS, dev_url, pg_server)


def test_a_virtual_column_is_added_and_its_expression_changed(pg18: Project) -> None:
    added = "      fahrenheit: {type: numeric, generated: {expression: celsius * 9 / 5 + 32, stored: false}}\n"
    pg18.edit("      kelvin:", added + "      kelvin:", FILE)
    sql = diff_and_prove(pg18, "add fahrenheit", "--allow-rewrite", ignore_column_order=True)
    assert "virtual" in sql
    pg18.edit("celsius * 9 / 5 + 32", "celsius * 1.8 + 32", FILE)
    sql = diff_and_prove(pg18, "fahrenheit by 1.8", ignore_column_order=True)
    assert "set expression as" in sql


def test_a_stored_column_made_virtual(pg18: Project) -> None:
    pg18.edit(
        "kelvin: {type: numeric, generated: celsius + 273.15}",
        "kelvin: {type: numeric, generated: {expression: celsius + 273.15, stored: false}}",
        FILE,
    )
    # PostgreSQL cannot change the kind in place: the column (derived values only) is dropped
    # and added again, which drops nothing a fresh build would hold.
    ok(pg18.diff("kelvin computed when read", "--allow-destructive"))
    sql = pg18.migration("kelvin_computed_when_read").lower()
    assert 'drop column "kelvin"' in sql and "virtual" in sql
    assert pg18.server is not None
    assert_migrations_build_desired_state(pg18.server, pg18.root, ignore_column_order=True)


def test_identity_options_changed_in_place(pg18: Project) -> None:
    pg18.edit(
        "identity: {generated: always, start: 10}",
        "identity: {generated: always, start: 10, increment: 5, cache: 10}",
        FILE,
    )
    sql = diff_and_prove(pg18, "identity in fives")
    assert "set increment by 5" in sql and "set cache 10" in sql


MEASUREMENTS = """\
schema: telemetry
tables:
  devices:
    columns:
      id: {type: bigint, primary_key: true}
  measurements:
    columns:
      device_id: {type: bigint, not_null: true}
      at: {type: timestamptz, not_null: true}
      value: {type: double precision}
    primary_key: [device_id, at]
    partition_by: {strategy: range, key: [at]}
    indexes: [{columns: [at]}]
    partitions:
      measurements_2025: {from: ['2025-01-01'], to: ['2026-01-01']}
"""

OWN_OBJECTS = """\
      measurements_2025:
        from: ['2025-01-01']
        to: ['2026-01-01']
        checks: {value_known: {expression: value IS NOT NULL, comment: Complete.}}
        foreign_keys: [{columns: [device_id], references: {table: devices}}]
        indexes: [{columns: [value]}]
      measurements_2026:
        from: ['2026-01-01']
        to: ['2027-01-01']
        unique: [{columns: [device_id, at, value], comment: Per device.}]
        partition_by: {strategy: hash, key: [device_id]}
        partitions:
          measurements_2026_a: {modulus: 2, remainder: 0, indexes: [{columns: [value]}]}
          measurements_2026_b: {modulus: 2, remainder: 1}
"""


@pytest.fixture
def partitioned(tmp_path: Path, dev_url: str, pg_server: PostgresServer) -> Project:
    return compiled(tmp_path / "project", "version_width: 3\n", MEASUREMENTS, dev_url, pg_server)


def test_a_partitions_own_objects_and_sub_partitions_are_migrated_both_ways(
    partitioned: Project,
) -> None:
    plain = "      measurements_2025: {from: ['2025-01-01'], to: ['2026-01-01']}\n"
    partitioned.edit(plain, OWN_OBJECTS, FILE)
    sql = diff_and_prove(partitioned, "partition objects")
    # migra's unparseable statement for the partition partitioned again, as schemac writes it:
    assert '"measurements_2026" partition of "telemetry"."measurements"' in sql
    assert "partition by hash (device_id)" in sql
    assert "comment on constraint" in sql
    # PostgreSQL's copies of the table's index and key on the new partitions are not created
    # by hand: only the partitions' own indexes are.
    assert sql.count("create index") + sql.count("create unique index") <= 3, sql
    partitioned.edit(OWN_OBJECTS, plain, FILE)
    diff_and_prove(partitioned, "partition objects taken back", "--allow-destructive")


ALERTS = """\
  alerts:
    columns:
      id: {type: bigint, not_null: true}
      raised: {type: date, not_null: true}
    partition_by: {strategy: range, key: [raised]}
    partitions:
      alerts_2025: {from: ['2025-01-01'], to: ['2026-01-01']}
"""


def test_a_partitions_own_primary_key_is_added_and_dropped(partitioned: Project) -> None:
    partitioned.edit("  measurements:\n", ALERTS + "  measurements:\n", FILE)
    diff_and_prove(partitioned, "alerts")
    plain = "      alerts_2025: {from: ['2025-01-01'], to: ['2026-01-01']}\n"
    keyed = (
        "      alerts_2025:\n        from: ['2025-01-01']\n        to: ['2026-01-01']\n"
        "        primary_key: {columns: [id], comment: Unique within the year.}\n"
    )
    partitioned.edit(plain, keyed, FILE)
    # Online: the key's index is built CONCURRENTLY in a file of its own (a leaf partition is
    # a plain table), the key added from it in the last file; squawk finds nothing to ask.
    before = partitioned.migrations()
    sql = diff_and_prove(partitioned, "alerts key")
    added = [name for name in partitioned.migrations() if name not in before]
    assert [n for n in added if "_index_" in n] and [n for n in added if n.endswith("_keys.sql")]
    index = partitioned.migration("alerts_key_index_")
    assert "create unique index concurrently" in index.lower(), index
    keys = partitioned.migration("alerts_key_keys")
    assert "primary key using index" in keys.lower() and "alerts_2025_pkey" in keys, keys
    partitioned.edit(keyed, plain, FILE)
    sql = diff_and_prove(partitioned, "alerts key dropped", "--allow-destructive")
    assert "drop constraint" in sql.lower(), sql


OWN_ACCESS = """\
      measurements_2025:
        from: ['2025-01-01']
        to: ['2026-01-01']
        triggers:
          measurements_2025_frozen: {timing: before, events: [insert, delete], for_each: row, function: stamp}
          measurements_2025_counted: {timing: after, events: [insert], function: stamp}
        row_level_security: {enable: true, force: true}
        policies:
          measurements_2025_readers: {command: select, roles: [tel_reader], using: value IS NOT NULL}
        replica_identity: {index: measurements_2025_pkey}
        grants: {tel_reader: [{select: with_grant_option}]}
        column_grants:
          value: {tel_auditor: [select, update]}
      measurements_default: {default: true, replica_identity: full}
"""
ROLES = "roles:\n  tel_reader: {}\n  tel_auditor: {}\n"
STAMP = """\
functions:
  stamp: {language: plpgsql, returns: trigger, body: BEGIN RETURN NEW; END}
"""


def test_a_partitions_own_triggers_security_identity_and_grants_migrate_both_ways(
    partitioned: Project,
) -> None:
    partitioned.write("schema/00_roles.yaml", ROLES)
    partitioned.edit("tables:\n", STAMP + "tables:\n", FILE)
    diff_and_prove(partitioned, "roles and stamp")
    plain = "      measurements_2025: {from: ['2025-01-01'], to: ['2026-01-01']}\n"
    partitioned.edit(plain, OWN_ACCESS, FILE)
    sql = diff_and_prove(partitioned, "partition access")
    for text in (
        "create trigger measurements_2025_frozen before insert or delete",
        "enable row level security",
        "force row level security",
        'create policy "measurements_2025_readers"',
        'replica identity using index "measurements_2025_pkey"',
        "with grant option",
        'grant select ("value")',
    ):
        assert text in sql, (text, sql)
    # changed in place, then taken back
    changed = OWN_ACCESS
    for before, after in (
        ("force: true", "force: false"),
        ("{index: measurements_2025_pkey}", "nothing"),
        ("[select, update]", "[select]"),
    ):
        changed = changed.replace(before, after)
    partitioned.edit(OWN_ACCESS, changed, FILE)
    sql = diff_and_prove(partitioned, "partition access changed", "--allow-destructive")
    assert "no force row level security" in sql and "replica identity nothing" in sql, sql
    assert 'revoke update ("value")' in sql, sql
    partitioned.edit(changed, plain, FILE)
    sql = diff_and_prove(partitioned, "partition access taken back", "--allow-destructive")


def test_check_db_names_hand_made_changes_of_what_a_partition_holds_at_its_lines(
    tmp_path: Path, dev_url: str, pg_server: PostgresServer, database: str
) -> None:
    plain = "      measurements_2025: {from: ['2025-01-01'], to: ['2026-01-01']}\n"
    schema = MEASUREMENTS.replace(plain, OWN_ACCESS).replace("tables:\n", STAMP + "tables:\n")
    root = tmp_path / "project"
    (root / "schema").mkdir(parents=True)
    (root / "schemac.yaml").write_text("version_width: 3\n", "utf-8")
    (root / "schema" / "00_roles.yaml").write_text(ROLES, "utf-8")
    (root / FILE).write_text(schema, "utf-8")
    ok(run_schemac("compile", cwd=root))
    project = Project(root, dev_url, pg_server)
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TRIGGER measurements_2025_frozen ON telemetry.measurements_2025")
        conn.execute("ALTER TABLE telemetry.measurements_2025 NO FORCE ROW LEVEL SECURITY")
        conn.execute('REVOKE UPDATE ("value") ON telemetry.measurements_2025 FROM tel_auditor')
        conn.execute("ALTER TABLE telemetry.measurements_default REPLICA IDENTITY DEFAULT")
    result = ok(project.check("--db", database), 1)
    lines = schema.splitlines()

    def line_of(declaration: str) -> int:
        return next(n for n, text in enumerate(lines, 1) if text.startswith(declaration))

    partition, frozen = (
        line_of("      measurements_2025:"),
        line_of("          measurements_2025_frozen:"),
    )
    expected = {  # each finding at the YAML of its object: the partition's own trigger's line
        "trigger measurements_2025_frozen on telemetry.measurements_2025:": frozen,
        "table column telemetry.measurements_2025.value: privileges:": partition,
        "table telemetry.measurements_2025: row level security": partition,
        "partition telemetry.measurements_2025: rls force": partition,
        "partition telemetry.measurements_default: replica identity": line_of(
            "      measurements_default:"
        ),
    }
    findings = [f for f in result.stdout.splitlines() if " differs from the YAML: " in f]
    assert len(findings) == len(expected), result.stdout
    for label, line in expected.items():
        found = [f for f in findings if f.split(" differs from the YAML: ", 1)[1].startswith(label)]
        assert len(found) == 1 and found[0].startswith(f"{FILE}:{line}:"), (label, result.stdout)
    assert "force" in result.stdout.lower() and "update" in result.stdout.lower(), result.stdout
