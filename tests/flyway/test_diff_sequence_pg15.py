"""A team's week on PostgreSQL 15: one database migrated by the real Flyway, diff after diff.

A small project declaring ``postgres_version: 15`` is compiled and migrated by Flyway (the
Maven plugin) into one database; then the YAML changes step by step, as a team would change
it, and after each step ``schemac diff`` writes a migration and Flyway migrates that same
database. After every step pg_dump of the migrated database (Flyway's history table left
out) equals pg_dump of the desired state; at the end ``schemac check --db`` is clean and the
rows written before the first change are still there. The platform's own generated/ is
migrated by Flyway on PostgreSQL 15 the same way and compared with its desired state.

The server is PostgreSQL 15 for the shadows, the migrated database and the desired state
alike: the session's when the test run targets one (CI's second pass, $SCHEMAC_TEST_PG_URL),
else a throwaway one from Debian's postgresql-15 binaries. This module carries no `flyway`
mark on purpose: CI's PostgreSQL 15 pass runs ``-m "postgres and not flyway"`` and must run it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from diff.oracle import apply_desired_state, differences, schema_dump
from diff.support import Project, ok
from schemac.flyway import DEFAULT_HISTORY_TABLE
from schemac.server_binaries import bin_major, server_bin_dir
from schemac.shadow import PostgresServer, scratch_database

from .conftest import REPO_ROOT, FlywayRunner
from .test_flyway_toml import flyway_properties

TARGET_MAJOR = 15
PG15_URL_ENV = "SCHEMAC_TEST_PG15_URL"  # set by .ci/run for its PostgreSQL 15 pass
HISTORY = f"public.{DEFAULT_HISTORY_TABLE}"

SETTINGS = f"postgres_version: {TARGET_MAJOR}\nversion_width: 3\n"
APP_FILE = "schema/01_app.yaml"
APP_YAML = """\
schema: app
comment: Items on a shelf.
tables:
  items:
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      name: {type: text, not_null: true}
      note: {type: text}
    indexes:
      - {columns: [note]}
functions:
  item_label:
    language: plpgsql
    returns: text
    arguments: [{name: p_name, type: text}]
    set: {search_path: "pg_catalog, pg_temp"}
    body: |
      BEGIN
        RETURN upper(p_name);
      END
"""

# (description, [(an exact YAML piece, what it becomes), ...]); applied in order.
STEPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "add a column with a default",
        [
            (
                "      note: {type: text}\n",
                '      note: {type: text}\n      qty: {type: integer, not_null: true, default: "1"}\n',
            )
        ],
    ),
    (
        "add an index",
        [
            (
                "      - {columns: [note]}\n",
                "      - {columns: [note]}\n      - {columns: [name, qty]}\n",
            )
        ],
    ),
    (
        "change a function's body and settings",
        [
            (
                '    set: {search_path: "pg_catalog, pg_temp"}\n',
                '    set: {search_path: "app, pg_temp", work_mem: 64MB}\n',
            ),
            ("        RETURN upper(p_name);\n", "        RETURN lower(p_name);\n"),
        ],
    ),
    (
        "add a view of the table",
        [
            (
                "functions:\n",
                "views:\n  item_quantities:\n    query: SELECT id, name, qty FROM app.items\nfunctions:\n",
            )
        ],
    ),
    (
        "widen a column the view uses",
        [
            (
                '      qty: {type: integer, not_null: true, default: "1"}\n',
                '      qty: {type: bigint, not_null: true, default: "1"}\n',
            )
        ],
    ),
    (
        # the index on the column is named after it: renamed with it, by definition
        "rename a column",
        [
            ("      note: {type: text}\n", "      remark: {type: text, renamed_from: note}\n"),
            ("      - {columns: [note]}\n", "      - {columns: [remark]}\n"),
        ],
    ),
    (
        "add a policy",
        [
            (
                "    indexes:\n",
                "    row_level_security: {enable: true}\n"
                "    policies:\n"
                '      readable: {command: select, using: "qty > 0"}\n'
                "    indexes:\n",
            )
        ],
    ),
]

# Steps that rewrite a table with rows (integer to bigint): refused by default, written with
# --allow-rewrite (docs/safety.md).
REWRITES = {"widen a column the view uses"}

# What each step's migration must say (the pg_dump comparison proves the rest).
WRITTEN = {
    "add a column with a default": 'add column "qty" integer not null default 1',
    # on a table that exists (and holds a row): built concurrently, in a file Flyway runs
    # outside a transaction (its .sql.conf)
    "add an index": "CREATE INDEX CONCURRENTLY items_name_qty_idx ON app.items",
    "change a function's body and settings": "SET work_mem TO '64MB'",
    "add a view of the table": 'CREATE VIEW "app"."item_quantities"',
    "widen a column the view uses": 'DROP VIEW "app"."item_quantities";',
    "rename a column": 'ALTER INDEX "app"."items_note_idx" RENAME TO "items_remark_idx"',
    "add a policy": 'create policy "readable"',
}


@pytest.fixture(scope="module")
def pg15_server(pg_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server: the session's if it is one, else Debian's binaries started here."""
    if pg_server.version // 10000 == TARGET_MAJOR:
        yield pg_server
        return
    if os.environ.get(PG15_URL_ENV):
        pytest.skip(f"runs in the PostgreSQL 15 pass (${PG15_URL_ENV}), not twice")
    bin_dir = server_bin_dir(TARGET_MAJOR)
    if bin_major(bin_dir) != TARGET_MAJOR:
        message = f"no PostgreSQL {TARGET_MAJOR} binaries (Debian: apt-get install postgresql-15)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with PostgresServer.embedded(bin_dir) as server:
        yield server


def _flyway_options(generated: Path) -> tuple[str, ...]:
    """The generated flyway.toml's settings as Maven -D options, bar the locations."""
    properties = flyway_properties(generated / "flyway.toml")
    return tuple(f"-D{k}={v}" for k, v in properties.items() if k != "flyway.locations")


def _migrate(flyway: FlywayRunner, generated: Path, url: str) -> None:
    result = flyway("migrate", generated / "migrations", url, *_flyway_options(generated))
    assert result.exit_code == 0, result.output


def _assert_migrated_as_declared(
    server: PostgresServer, generated: Path, url: str, step: str
) -> None:
    """pg_dump of the Flyway-migrated database equals pg_dump of the desired state."""
    migrated = schema_dump(url, exclude_tables=(HISTORY,))
    with scratch_database(server) as desired_url:
        apply_desired_state(desired_url, generated)
        desired = schema_dump(desired_url)
    assert migrated == desired, (
        f"after {step!r}, pg_dump of the database Flyway migrated differs from the desired state:\n"
        + differences(desired, migrated, "desired state", "migrated by Flyway")
    )


def test_a_sequence_of_diffs_migrated_by_flyway_on_postgres_15(
    pg15_server: PostgresServer, flyway: FlywayRunner, tmp_path: Path
) -> None:
    server = pg15_server
    assert server.version // 10000 == TARGET_MAJOR
    project = Project(tmp_path / "project", server.url(server.maintenance_database), server)
    project.write("schemac.yaml", SETTINGS)
    project.write(APP_FILE, APP_YAML)
    ok(project.run("compile"))
    with scratch_database(server) as url:
        _migrate(flyway, project.generated, url)
        _assert_migrated_as_declared(server, project.generated, url, "compile")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO app.items (name, note) VALUES ('bolt', 'kept')")

        for step, edits in STEPS:
            before = project.migrations()
            for old, new in edits:
                project.edit(old, new, APP_FILE)
            if step in REWRITES:
                refused = project.diff(step)
                assert refused.returncode == 2 and "rewrite" in refused.stderr, refused.stderr
                ok(project.diff(step, "--allow-rewrite"))
            else:
                ok(project.diff(step))
            written = sorted(set(project.migrations()) - set(before))
            assert len(written) == 1, f"{step!r}: diff wrote {written}"
            text = project.read(f"generated/migrations/{written[0]}")
            assert WRITTEN[step] in text, f"{step!r}: {WRITTEN[step]!r} not in\n{text}"
            conf = project.generated / "migrations" / f"{written[0]}.conf"
            assert conf.is_file() == ("CONCURRENTLY" in text), f"{step!r}: {written[0]}.conf"
            _migrate(flyway, project.generated, url)
            _assert_migrated_as_declared(server, project.generated, url, step)

        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT name, remark, qty FROM app.items").fetchall()
            applied = conn.execute(
                f"SELECT count(*) FROM {HISTORY} WHERE success AND version IS NOT NULL"
            ).fetchone()
        assert rows == [("bolt", "kept", 1)]
        assert applied == (1 + len(STEPS),)
        ok(project.run("check", "--db", url, "--dev-url", project.dev_url))
        ok(project.check())


def test_the_platform_migrated_by_flyway_on_postgres_15(
    pg15_server: PostgresServer, flyway: FlywayRunner
) -> None:
    """The platform's committed generated/ (read, never written), as its README runs it."""
    generated = REPO_ROOT / "generated"
    with scratch_database(pg15_server) as url:
        _migrate(flyway, generated, url)
        _assert_migrated_as_declared(pg15_server, generated, url, "the platform's migrations")
