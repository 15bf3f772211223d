"""Adopting a live database: import, compile, tell Flyway the database is at the baseline, and
`schemac check --db` is clean right after; the next change migrates on top of it.

Flyway runs for real (Maven), configured from the generated flyway.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from flyway.conftest import FlywayRunner
from importer.roundtrip import baseline_migrations, import_project, run_ok, yaml_files
from schemac.shadow import PostgresServer

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _toml_properties(toml: Path) -> list[str]:
    """generated/flyway.toml as the Maven plugin's -Dflyway.<key> properties."""
    options: list[str] = []

    def add(prefix: str, table: dict[str, object]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                add(f"{prefix}{key}.", value)
            elif key != "locations":
                shown = ",".join(map(str, value)) if isinstance(value, list) else value
                options.append(
                    f"-D{prefix}{key}={str(shown).lower() if isinstance(value, bool) else shown}"
                )

    add("flyway.", tomllib.loads(toml.read_text(encoding="utf-8"))["flyway"])
    return options


def _adopted(url: str, name: str, project: Path) -> tuple[Path, list[str], str]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((SCHEMAS / f"{name}.sql").read_text(encoding="utf-8"))
    import_project(project, url)
    run_ok("compile", cwd=project)
    migrations = baseline_migrations(project)
    last = migrations[-1].name.split("__")[0][1:]
    return (
        project / "generated" / "migrations",
        _toml_properties(project / "generated" / "flyway.toml"),
        last,
    )


def _check_clean(project: Path, url: str, pg_server: PostgresServer) -> None:
    dev_url = pg_server.url(pg_server.maintenance_database)
    done = run_schemac("check", "--db", url, "--dev-url", dev_url, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_flyway_baseline_then_check_is_clean_and_the_next_change_migrates(
    flyway: FlywayRunner, pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    location, options, last = _adopted(empty_db, "events", project)
    baselined = flyway(
        "baseline",
        location,
        empty_db,
        *options,
        f"-Dflyway.baselineVersion={last}",
        "-Dflyway.baselineDescription=adopted",
    )
    assert baselined.exit_code == 0, baselined.output
    migrated = flyway("migrate", location, empty_db, *options)
    assert migrated.exit_code == 0, migrated.output
    assert "is up to date. No migration necessary" in migrated.output, migrated.output
    _check_clean(project, empty_db, pg_server)
    # Flyway's history table is not the project's: importing again writes the same YAML.
    again = tmp_path / "again"
    import_project(again, empty_db)
    assert yaml_files(again) == yaml_files(project)

    # The next change: a column added in the YAML becomes V<last+1>, applied on the baseline.
    unit = project / "schema" / "01_events.yaml"
    lines = unit.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("updated_at:"))
    lines.insert(at + 1, "      origin: {type: text}\n")
    unit.write_text("".join(lines), encoding="utf-8")
    dev_url = pg_server.url(pg_server.maintenance_database)
    run_ok("diff", "-m", "counters origin", "--dev-url", dev_url, cwd=project)
    run_ok("compile", cwd=project)
    assert len(baseline_migrations(project)) == int(last) + 1
    migrated = flyway("migrate", location, empty_db, *options)
    assert migrated.exit_code == 0, migrated.output
    with psycopg.connect(empty_db) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'events' "
            "AND table_name = 'counters' AND column_name = 'origin'"
        ).fetchone()
    assert found is not None
    _check_clean(project, empty_db, pg_server)


def test_baseline_on_migrate_adopts_a_database_whose_public_schema_holds_objects(
    flyway: FlywayRunner, pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    location, options, last = _adopted(empty_db, "tenants", project)
    migrated = flyway(
        "migrate",
        location,
        empty_db,
        *options,
        "-Dflyway.baselineOnMigrate=true",
        f"-Dflyway.baselineVersion={last}",
    )
    assert migrated.exit_code == 0, migrated.output
    _check_clean(project, empty_db, pg_server)


# Flyway's own behaviour only (the PostgreSQL 15 pass leaves it out; the same import of the
# events schema runs there in the first test of this module).
@pytest.mark.flyway
def test_baseline_on_migrate_is_not_enough_when_the_public_schema_is_empty(
    flyway: FlywayRunner, pg_server: PostgresServer, empty_db: str, tmp_path: Path
) -> None:
    """Flyway looks only at its default schema (public): empty, it takes the database for a
    new one and runs V001, which fails on the objects already there. docs/adopting.md says
    to run `flyway baseline` then."""
    project = tmp_path / "project"
    location, options, last = _adopted(empty_db, "events", project)
    migrated = flyway(
        "migrate",
        location,
        empty_db,
        *options,
        "-Dflyway.baselineOnMigrate=true",
        f"-Dflyway.baselineVersion={last}",
    )
    assert migrated.exit_code != 0
    assert "already exists" in migrated.output, migrated.output
