"""The platform's generated/ under the real Flyway, as the platform README runs it.

The platform's YAML (schema/, schemac.yaml) is copied into tmp_path and compiled there, so
the repository's own generated/ is never read or written. Flyway runs through the project's
pom with the settings of the generated flyway.toml (test_flyway_toml.py runs it with those
settings alone). One database is migrated once; the seed flow and the diff flow work on
copies of it (CREATE DATABASE ... TEMPLATE), which keeps the number of Maven runs small.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemac.compiler import compile_project as compile_in_process
from schemac.compiler import open_project
from schemac.flyway import (
    AppliedMigration,
    checksum,
    file_checksum,
    read_schema_history,
    scan_migrations,
)
from schemac.naming import quote_ident
from schemac.shadow import PostgresServer

from .conftest import FlywayResult, FlywayRunner
from .test_flyway_toml import (
    FLYWAY_TOML,
    GENERATED,
    MIGRATIONS,
    SEED_DATA,
    add_concurrent_index,
    compile_project,
    copy_platform,
    flyway_properties,
    info_rows,
    run_schemac,
)

pytestmark = pytest.mark.flyway

INTEGRITY = "integrity.json"
# The YAML change of the diff test: a new column, and an index that must be built concurrently.
_LAST_COLUMN = "      created_at:      {type: timestamptz, not_null: true, default: now()}\n"
_COLUMN_ANCHOR = _LAST_COLUMN + "    unique:\n      # An object earns"
_NEW_COLUMN = (
    "      reviewed_at:     {type: timestamptz, comment: When an administrator reviewed it.}\n"
)


def assert_succeeded(result: FlywayResult) -> None:
    assert result.exit_code == 0, result.output


def toml_options(generated: Path) -> tuple[str, ...]:
    """The generated flyway.toml's settings as -D options, bar the location each run names."""
    properties = flyway_properties(generated / FLYWAY_TOML)
    return tuple(f"-D{k}={v}" for k, v in properties.items() if k != "flyway.locations")


def history(url: str) -> list[AppliedMigration]:
    with psycopg.connect(url) as conn:
        return read_schema_history(conn)


def schemac_check(project: Path, url: str, pg_server: PostgresServer) -> tuple[int, dict[str, Any]]:
    """``schemac check --db url --format json``, shadows on the session's server."""
    result = run_schemac(
        project,
        "check",
        "--db",
        url,
        "--dev-url",
        pg_server.url(pg_server.maintenance_database),
        "--format",
        "json",
    )
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


@dataclass(frozen=True)
class Migrated:
    name: str
    url: str
    output: str  # migrate, validate and info in one Maven session


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform's YAML project, compiled in a temporary folder."""
    project = copy_platform(tmp_path_factory.mktemp("platform"))
    compile_project(project)
    return project


@pytest.fixture(scope="module")
def migrated(pg_server: PostgresServer, flyway: FlywayRunner, platform: Path) -> Iterator[Migrated]:
    """A database that `flyway migrate` built from the platform's generated/migrations."""
    generated = platform / GENERATED
    name = pg_server.create_database()
    url = pg_server.url(name)
    try:
        result = flyway(
            "migrate",
            generated / MIGRATIONS,
            url,
            "flyway:validate",
            "flyway:info",
            *toml_options(generated),
        )
        assert_succeeded(result)
        yield Migrated(name, url, result.output)
    finally:
        pg_server.drop_database(name)


def seed_tables(project: Path) -> dict[str, tuple[str, set[tuple[str, ...]]]]:
    """Seeded table -> (its key columns as SQL, the YAML's key values as text)."""
    compiled = compile_in_process(open_project(project))
    tables: dict[str, tuple[str, set[tuple[str, ...]]]] = {}
    for _, seed in compiled.project.seeds:
        positions = [seed.columns.index(column) for column in seed.key]
        keys = {tuple(_as_text(row[i]) for i in positions) for row in seed.rows}
        columns = ", ".join(f"{quote_ident(column)}::text" for column in seed.key)
        previous = tables.get(seed.table.sql, (columns, set()))[1]
        tables[seed.table.sql] = (columns, previous | keys)
    return tables


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def seed_snapshot(url: str, tables: dict[str, tuple[str, set[tuple[str, ...]]]]) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        return {
            table: sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall())
            for table, (columns, _) in tables.items()
        }


@dataclass(frozen=True)
class Seeded:
    name: str
    url: str
    first: FlywayResult  # the README's step 3
    history_after_first: list[AppliedMigration]
    rows_after_first: dict[str, Any]
    again: tuple[FlywayResult, FlywayResult]  # steps 2 and 3 once more
    history_after_again: list[AppliedMigration]
    rows_after_again: dict[str, Any]


@pytest.fixture(scope="module")
def seeded(
    pg_server: PostgresServer, flyway: FlywayRunner, platform: Path, migrated: Migrated
) -> Iterator[Seeded]:
    """A copy of `migrated` taken through the README's seed step, then both steps again."""
    generated = platform / GENERATED
    options = toml_options(generated)
    tables = seed_tables(platform)
    name = pg_server.create_database(template=migrated.name)
    url = pg_server.url(name)
    try:
        first = flyway("migrate", generated / SEED_DATA, url, *options)
        history_after_first = history(url)
        rows_after_first = seed_snapshot(url, tables)
        schema_again = flyway("migrate", generated / MIGRATIONS, url, *options)
        seeds_again = flyway("migrate", generated / SEED_DATA, url, *options)
        yield Seeded(
            name,
            url,
            first,
            history_after_first,
            rows_after_first,
            (schema_again, seeds_again),
            history(url),
            seed_snapshot(url, tables),
        )
    finally:
        pg_server.drop_database(name)


# -- 1. migrate, validate, info; the database is what the YAML declares ------------------------


def test_migrate_applies_every_migration_and_validate_and_info_agree(
    migrated: Migrated, platform: Path
) -> None:
    migrations = scan_migrations(platform / GENERATED / MIGRATIONS)
    assert migrations
    output = migrated.output
    assert f"Successfully applied {len(migrations)} migrations" in output, output
    assert f"Successfully validated {len(migrations)} migrations" in output, output
    rows = info_rows(output)
    versions = [m.name.display_version for m in migrations]
    assert [row["Version"] for row in rows] == versions, output
    assert {(row["Category"], row["State"]) for row in rows} == {("Versioned", "Success")}, output
    assert "Pending" not in output and "Failed" not in output


def test_migrated_database_has_no_difference_from_the_yaml(
    migrated: Migrated, platform: Path, pg_server: PostgresServer
) -> None:
    exit_code, report = schemac_check(platform, migrated.url, pg_server)
    seed_files = sorted(p.name for p in (platform / GENERATED / SEED_DATA).glob("R__*.sql"))
    # The schema matches; the only findings are the seed files, which step 3 applies.
    assert [(f["category"], f["message"].rsplit(": ", 1)[-1]) for f in report["findings"]] == [
        ("history", f"{name} is pending (not applied yet)") for name in seed_files
    ], report
    assert exit_code == 1
    assert any(item.startswith("database ") for item in report["checked"]), report


# -- 2. the README's two steps, and running them again ------------------------------------------


def test_readme_seed_step_loads_every_seed_row_into_the_same_history(
    seeded: Seeded, platform: Path, migrated: Migrated
) -> None:
    assert_succeeded(seeded.first)
    seed_files = sorted((platform / GENERATED / SEED_DATA).glob("R__*.sql"))
    assert f"Successfully applied {len(seed_files)} migrations" in seeded.first.output
    versioned_before = history(migrated.url)
    assert seeded.history_after_first[: len(versioned_before)] == versioned_before
    added = seeded.history_after_first[len(versioned_before) :]
    assert [(row.script, row.checksum) for row in added] == [
        (path.name, file_checksum(path)) for path in seed_files
    ]
    for table, (_, keys) in seed_tables(platform).items():
        assert set(seeded.rows_after_first[table]) == keys, table


def test_seed_tables_include_levels_badges_point_rules_roles_and_permissions(
    platform: Path,
) -> None:
    seeded_tables = set(seed_tables(platform))
    for table in (
        '"gamification"."levels"',
        '"gamification"."badges"',
        '"gamification"."default_point_rules"',
        '"user_management"."system_roles"',
        '"user_management"."permissions"',
    ):
        assert table in seeded_tables, sorted(seeded_tables)


def test_running_both_steps_again_changes_nothing(seeded: Seeded) -> None:
    for result in seeded.again:
        assert_succeeded(result)
        assert "is up to date. No migration necessary." in result.output, result.output
    assert seeded.history_after_again == seeded.history_after_first
    assert seeded.rows_after_again == seeded.rows_after_first


# -- 3 and 4. a YAML change, `schemac diff`, and Flyway applies only the new migrations --------


def test_yaml_change_then_diff_then_flyway_applies_only_the_new_migrations(
    pg_server: PostgresServer,
    flyway: FlywayRunner,
    platform: Path,
    seeded: Seeded,
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    shutil.copytree(platform, project)
    gamification = project / "schema" / "04_gamification.yaml"
    text = gamification.read_text(encoding="utf-8")
    assert text.count(_COLUMN_ANCHOR) == 1, "the platform's YAML changed: no anchor for the column"
    with_column = _LAST_COLUMN + _NEW_COLUMN + _COLUMN_ANCHOR.removeprefix(_LAST_COLUMN)
    gamification.write_text(text.replace(_COLUMN_ANCHOR, with_column), encoding="utf-8")
    add_concurrent_index(project)
    generated = project / GENERATED
    before = {m.path.name for m in scan_migrations(generated / MIGRATIONS)}

    dev_url = pg_server.url(pg_server.maintenance_database)
    diff = run_schemac(project, "diff", "-m", "review points", "--dev-url", dev_url)
    assert diff.returncode == 0, diff.stdout + diff.stderr

    migrations = scan_migrations(generated / MIGRATIONS)
    new = [m for m in migrations if m.path.name not in before]
    assert {m.path.name for m in migrations} >= before
    # The column in a transaction; the concurrent index alone, with its .sql.conf.
    assert [m.execute_in_transaction for m in new] == [True, False], [m.path.name for m in new]
    assert "CREATE INDEX CONCURRENTLY" in new[1].path.read_text(encoding="utf-8")

    name = pg_server.create_database(template=seeded.name)
    url = pg_server.url(name)
    try:
        applied_before = history(url)
        result = flyway(
            "migrate",
            generated / MIGRATIONS,
            url,
            "flyway:validate",
            *toml_options(generated),
        )
        assert_succeeded(result)
        assert f"Successfully applied {len(new)} migrations" in result.output, result.output
        assert "[non-transactional]" in result.output
        applied_after = history(url)
        assert applied_after[: len(applied_before)] == applied_before
        assert [row.script for row in applied_after[len(applied_before) :]] == [
            m.path.name for m in new
        ]
        seed_files = list((generated / SEED_DATA).glob("R__*.sql"))
        validated = len(migrations) + len(seed_files)  # the seeds as ignored "missing" ones
        assert f"Successfully validated {validated} migrations" in result.output, result.output

        exit_code, report = schemac_check(project, url, pg_server)
        assert (exit_code, report["findings"]) == (0, []), report
    finally:
        pg_server.drop_database(name)


# -- 5. Flyway's checksums are schemac's ---------------------------------------------------------


def test_flyway_recorded_checksums_equal_integrity_json(migrated: Migrated, platform: Path) -> None:
    generated = platform / GENERATED
    integrity = json.loads((generated / INTEGRITY).read_text(encoding="utf-8"))
    recorded = {row.script: row.checksum for row in history(migrated.url)}
    expected = {entry["file"]: entry["flyway_checksum"] for entry in integrity["migrations"]}
    assert recorded == expected
    for name, value in expected.items():
        assert checksum((generated / MIGRATIONS / name).read_bytes()) == value, name
