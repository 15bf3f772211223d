"""schemac's Flyway rules against the real Flyway (Maven plugin) and a real PostgreSQL.

Each folder of migrations here is written by hand in tmp_path, with the byte-level quirks
that matter (CRLF, CR-only, BOM, non-ASCII, no final newline), so the checksums that
Flyway records can be compared with schemac's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemac.flyway import (
    checksum,
    find_version_collisions,
    parse_migration_name,
    read_schema_history,
    scan_migrations,
)
from schemac.shadow import PostgresServer

from .conftest import FlywayResult, FlywayRunner

pytestmark = pytest.mark.flyway

# File name -> exact bytes.  Every file is valid SQL that PostgreSQL accepts.
PLATFORM_FILES: dict[str, bytes] = {
    "V1__create_things.sql": (
        b"CREATE TABLE things (\n    id bigint PRIMARY KEY,\n    name text NOT NULL\n);\n"
    ),
    "V1.1__crlf_line_endings.sql": (
        b"-- written on Windows\r\n"
        b"ALTER TABLE things ADD COLUMN note text;\r\n"
        b"\r\n"
        b"ALTER TABLE things ADD COLUMN size int;\r\n"
    ),
    "V1_2__underscore_version.sql": b"ALTER TABLE things ADD COLUMN added_at timestamptz;\n",
    "V2__idx.sql": b"CREATE INDEX CONCURRENTLY things_name_idx ON things (name);\n",
    "V2__idx.sql.conf": b"executeInTransaction=false\n",
    "V3__bom_and_unicode.sql": (
        "\ufeffCOMMENT ON TABLE things IS 'Caf\u00e9 \u2014 \u00fcn\u00efcode \U0001f600';\n"
        "COMMENT ON COLUMN things.name IS '\u540d\u524d'"  # no final newline
    ).encode("utf-8"),
    "V4__old_mac_endings.sql": (
        b"-- classic Mac OS line ends\r\rALTER TABLE things ADD COLUMN flag bool;   \r\tSELECT 1;\r"
    ),
    "R__things_view.sql": (
        b"CREATE OR REPLACE VIEW things_named AS\n    SELECT id, name FROM things;\n"
    ),
}


def write_files(directory: Path, files: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return directory


def assert_succeeded(result: FlywayResult) -> None:
    assert result.exit_code == 0, result.output


def info_rows(output: str) -> list[list[str]]:
    """The migration rows of `flyway:info`'s table, as lists of cell texts."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2 and cells[1] in {"Versioned", "Repeatable"}:
            rows.append(cells[1:-1])
    return rows


def history(url: str, schema: str | None = None) -> dict[str, list[int | None]]:
    """Script name -> the checksums Flyway recorded for it, in install order."""
    with psycopg.connect(url) as conn:
        rows = read_schema_history(conn, schema=schema)
    recorded: dict[str, list[int | None]] = {}
    for row in rows:
        assert row.success, row
        recorded.setdefault(row.script, []).append(row.checksum)
    return recorded


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_files(tmp_path_factory.mktemp("migrations"), PLATFORM_FILES)


@pytest.fixture(scope="module")
def applied(pg_server: PostgresServer, flyway: FlywayRunner, platform_dir: Path) -> Iterator[str]:
    """URL of a database that Flyway migrated with PLATFORM_FILES."""
    name = pg_server.create_database()
    url = pg_server.url(name)
    try:
        assert_succeeded(flyway("migrate", platform_dir, url))
        yield url
    finally:
        pg_server.drop_database(name)


def test_migrate_then_validate_and_info_report_everything_applied(
    flyway: FlywayRunner, applied: str, platform_dir: Path
) -> None:
    assert_succeeded(flyway("validate", platform_dir, applied))

    info = flyway("info", platform_dir, applied)
    assert_succeeded(info)
    rows = info_rows(info.output)
    migrations = scan_migrations(platform_dir)
    assert len(rows) == len(migrations), info.output
    assert all(row[-2] == "Success" for row in rows), info.output
    assert "Pending" not in info.output


def test_schemac_checksum_equals_flyways_recorded_checksum_for_every_file(
    applied: str, platform_dir: Path
) -> None:
    recorded = history(applied)
    migrations = scan_migrations(platform_dir)
    assert sorted(recorded) == sorted(m.path.name for m in migrations)
    for migration in migrations:
        assert recorded[migration.path.name] == [migration.checksum], migration.path.name


def test_schemac_reads_versions_and_descriptions_as_flyway_records_them(applied: str) -> None:
    with psycopg.connect(applied) as conn:
        rows = read_schema_history(conn)
    for row in rows:
        name = parse_migration_name(row.script)
        assert name is not None, row.script
        assert (name.display_version, name.description) == (row.version, row.description)
    installed_versions = [row.version for row in rows if row.version is not None]
    assert installed_versions == ["1", "1.1", "1.2", "2", "3", "4"]


def test_conf_file_runs_create_index_concurrently_outside_a_transaction(
    applied: str, platform_dir: Path
) -> None:
    by_name = {m.path.name: m for m in scan_migrations(platform_dir)}
    assert by_name["V2__idx.sql"].execute_in_transaction is False
    assert by_name["V1__create_things.sql"].execute_in_transaction is True
    with psycopg.connect(applied) as conn:
        valid = conn.execute(
            "SELECT i.indisvalid FROM pg_index i"
            " WHERE i.indexrelid = 'public.things_name_idx'::regclass"
        ).fetchone()
    assert valid == (True,)


def test_file_mixing_transactional_and_concurrent_statements_fails(
    flyway: FlywayRunner, flyway_db: str, tmp_path: Path
) -> None:
    folder = write_files(
        tmp_path / "mixed",
        {
            "V1__mixed.sql": (
                b"CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n"
            )
        },
    )
    result = flyway("migrate", folder, flyway_db)
    assert result.exit_code != 0
    assert "non-transactional" in result.output
    with psycopg.connect(flyway_db) as conn:
        assert conn.execute("SELECT to_regclass('public.t')").fetchone() == (None,)


def test_repeatable_reapplies_only_when_its_checksum_changes(
    flyway: FlywayRunner, flyway_db: str, tmp_path: Path
) -> None:
    folder = write_files(
        tmp_path / "repeatable",
        {
            "V1__table.sql": b"CREATE TABLE t (id int, label text);\n",
            "R__view.sql": b"CREATE OR REPLACE VIEW v AS\nSELECT id FROM t;\n",
        },
    )
    view = folder / "R__view.sql"
    assert_succeeded(flyway("migrate", folder, flyway_db))
    assert_succeeded(flyway("migrate", folder, flyway_db))
    assert history(flyway_db)["R__view.sql"] == [checksum(view.read_bytes())]

    # Line endings are not part of the checksum: Flyway must not re-apply.
    view.write_bytes(view.read_bytes().replace(b"\n", b"\r\n"))
    assert_succeeded(flyway("migrate", folder, flyway_db))
    assert len(history(flyway_db)["R__view.sql"]) == 1

    original = checksum(view.read_bytes())
    view.write_bytes(b"CREATE OR REPLACE VIEW v AS\nSELECT id, label FROM t;\n")
    assert_succeeded(flyway("migrate", folder, flyway_db))
    assert history(flyway_db)["R__view.sql"] == [original, checksum(view.read_bytes())]
    with psycopg.connect(flyway_db) as conn:
        columns = conn.execute(
            "SELECT attname FROM pg_attribute"
            " WHERE attrelid = 'public.v'::regclass AND attnum > 0 ORDER BY attnum"
        ).fetchall()
    assert columns == [("id",), ("label",)]


def test_history_in_a_named_schema_is_read_only_when_asked_for(
    flyway: FlywayRunner, flyway_db: str, tmp_path: Path
) -> None:
    folder = write_files(tmp_path / "named", {"V1__t.sql": b"CREATE TABLE t (id int);\n"})
    assert_succeeded(flyway("migrate", folder, flyway_db, "-Dflyway.schemas=app"))
    with psycopg.connect(flyway_db) as conn:
        assert read_schema_history(conn) == []
        rows = read_schema_history(conn, schema="app")
    # Flyway records creating the schema it manages (rank 0), then the migration.
    assert [(row.type, row.script) for row in rows][-1] == ("SQL", "V1__t.sql")
    assert rows[-1].checksum == checksum((folder / "V1__t.sql").read_bytes())


def test_versions_that_compare_equal_are_refused_by_flyway_and_schemac(
    flyway: FlywayRunner, flyway_db: str, tmp_path: Path
) -> None:
    files = {"V1__first.sql": b"SELECT 1;\n", "V001__second.sql": b"SELECT 2;\n"}
    folder = write_files(tmp_path / "collision", files)
    names = [parse_migration_name(name) for name in files]
    assert find_version_collisions([n for n in names if n is not None]) == [
        ("V001__second.sql", "V1__first.sql")
    ]
    result = flyway("migrate", folder, flyway_db)
    assert result.exit_code != 0
    assert "Found more than one migration with version" in result.output
    assert all(f"{folder}/{name}" in result.output for name in files)


def test_file_that_is_not_utf8_is_refused_by_flyway_and_schemac(
    flyway: FlywayRunner, flyway_db: str, tmp_path: Path
) -> None:
    latin1 = "-- caf\u00e9\nSELECT 1;\n".encode("latin-1")
    folder = write_files(tmp_path / "latin1", {"V1__latin1.sql": latin1})
    with pytest.raises(UnicodeDecodeError):
        checksum(latin1)
    result = flyway("migrate", folder, flyway_db)
    assert result.exit_code != 0
    assert "Unable to calculate checksum" in result.output
