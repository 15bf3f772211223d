"""Helpers for the diff and check tests: temporary projects, the real CLI, a Flyway stand-in.

Every test builds a small project in its own folder and runs `python -m schemac ...` on it as
a subprocess. Shadow databases go to the session's PostgreSQL server (``--dev-url``), where
template databases named by a digest of the migrations (or of the desired state) are built
once and cloned afterwards, so tests that share a baseline share its shadow.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from schemac import flyway
from schemac.drift import read_migrations, run_script
from schemac.shadow import PostgresServer, scratch_database

GLOBAL_YAML = """\
extensions:
  citext: {schema: public}
roles:
  school_app: {comment: The application.}
  school_reader: {}
"""

# The baseline every test starts from and changes one thing in.
SCHOOL_YAML = """\
schema: school
comment: Courses and lessons.
grants: {school_app: [usage], school_reader: [usage]}
table_grants: {school_app: [select, insert, update, delete]}
enums:
  level: [beginner, advanced]
tables:
  courses:
    comment: A course.
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      title: {type: text, not_null: true, comment: Shown in the catalogue.}
      level: {type: level, not_null: true, default: "'beginner'"}
      price: {type: "numeric(8,2)"}
      code: {type: "varchar(20)"}
      created_at: {type: timestamptz, not_null: true, default: now()}
    checks:
      title_not_blank: "btrim(title) <> ''"
    indexes:
      - {columns: [level, created_at desc]}
    triggers:
      touch: {timing: before, events: [update], for_each: row, function: touch}
    row_level_security: {enable: true}
    policies:
      visible: {command: select, using: "true"}
  lessons:
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      course_id: {type: bigint, not_null: true, references: {table: courses, on_delete: cascade}}
      title: {type: text, not_null: true}
      position: {type: integer, not_null: true, default: "0"}
    unique:
      - [course_id, position]
functions:
  touch:
    language: plpgsql
    returns: trigger
    body: |
      BEGIN
        RETURN NEW;
      END
  lesson_count:
    language: sql
    returns: bigint
    arguments: [{name: p_course, type: bigint}]
    volatility: stable
    body: SELECT count(*) FROM school.lessons WHERE course_id = p_course
views:
  course_titles:
    query: SELECT id, title, level FROM school.courses
  advanced_titles:
    query: SELECT id, title FROM school.course_titles WHERE level = 'advanced'
materialized_views:
  lesson_totals:
    query: SELECT course_id, count(*) AS lessons FROM school.lessons GROUP BY course_id
"""

SCHOOL_FILE = "schema/01_school.yaml"


@dataclass
class Project:
    """A schemac project in a temporary folder, run against the session's shadow server."""

    root: Path
    dev_url: str
    server: PostgresServer | None = None  # the session's server, for the pg_dump oracle
    last_stderr: str = ""  # what the last diff_and_prove's diff said on stderr

    @property
    def generated(self) -> Path:
        return self.root / "generated"

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def edit(self, old: str, new: str, relative: str = SCHOOL_FILE) -> None:
        """Replace one exact piece of a YAML file (the test fails if it is not there once)."""
        text = self.read(relative)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
        self.write(relative, text.replace(old, new))

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_schemac(*args, cwd=self.root, env=env)

    def diff(self, message: str, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run("diff", "-m", message, "--dev-url", self.dev_url, *options)

    def check(self, *options: str) -> subprocess.CompletedProcess[str]:
        if "--offline" in options:
            return self.run("check", *options)
        return self.run("check", "--dev-url", self.dev_url, *options)

    def migrations(self) -> list[str]:
        return sorted(p.name for p in (self.generated / "migrations").glob("*.sql"))

    def migration(self, name_part: str) -> str:
        """Text of the one migration whose name contains ``name_part``."""
        found = [n for n in self.migrations() if name_part in n]
        assert len(found) == 1, f"migrations matching {name_part!r}: {found}"
        return self.read(f"generated/migrations/{found[0]}")

    def snapshot(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.generated)): p.read_bytes()
            for p in sorted(self.generated.rglob("*"))
            if p.is_file()
        }


def ok(result: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    """Assert the exit code, showing everything the command said when it is not the expected one."""
    assert result.returncode == code, (
        f"exit {result.returncode}, expected {code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


# The timeouts every written file starts (and a concurrent index file ends) with, by default.
TIMEOUT_LINES = frozenset(
    {
        "SET LOCAL lock_timeout = '5s';",
        "SET LOCAL statement_timeout = '5min';",
        "SET LOCAL statement_timeout = '0';",
        "SET lock_timeout = '0';",
        "SET statement_timeout = '0';",
        "RESET lock_timeout;",
        "RESET statement_timeout;",
    }
)


def new_migration_sql(result: subprocess.CompletedProcess[str]) -> str:
    """The SQL statements `schemac diff` printed, header comments dropped, whitespace collapsed."""
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.strip()
        and not line.startswith("--")
        and not line.startswith(("wrote ", "dry run"))
        and line not in TIMEOUT_LINES
    ]
    return " ".join(" ".join(lines).split())


# -- Flyway's part, played by the test ------------------------------------------------------------

HISTORY_TABLE = f"""
CREATE TABLE public.{flyway.DEFAULT_HISTORY_TABLE} (
    installed_rank integer NOT NULL CONSTRAINT flyway_schema_history_pk PRIMARY KEY,
    version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL,
    script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
CREATE INDEX flyway_schema_history_s_idx ON public.{flyway.DEFAULT_HISTORY_TABLE} (success);
"""


def flyway_migrate(url: str, generated: Path, *, seeds: bool = True) -> list[str]:
    """Apply generated/ the way Flyway does and record it in flyway_schema_history.

    Versioned migrations in version order, each in its own transaction unless its .conf says
    otherwise; then the repeatable seed files. Returns the scripts applied.
    """
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"public.{flyway.DEFAULT_HISTORY_TABLE}",)
        ).fetchone()
        if not (exists and exists[0]):
            conn.execute(HISTORY_TABLE)
        done = {
            row[0]
            for row in conn.execute(
                f"SELECT script FROM public.{flyway.DEFAULT_HISTORY_TABLE} WHERE success"
            ).fetchall()
        }
        rank = conn.execute(
            f"SELECT coalesce(max(installed_rank), 0) FROM public.{flyway.DEFAULT_HISTORY_TABLE}"
        ).fetchone()
        next_rank = int(rank[0]) + 1 if rank else 1
        scripts = [
            (m.name, m.text, m.transactional, ".".join(map(str, m.version)))
            for m in read_migrations(generated)
        ]
        if seeds and (generated / "seed-data").is_dir():
            scripts += [
                (p.name, p.read_text(encoding="utf-8"), True, None)
                for p in sorted((generated / "seed-data").glob("R__*.sql"))
            ]
        for name, text, transactional, version in scripts:
            if name in done:
                continue
            run_script(conn, name, text, transactional)
            parsed = flyway.parse_migration_name(name)
            conn.execute(
                f"INSERT INTO public.{flyway.DEFAULT_HISTORY_TABLE} (installed_rank, version, description, type, "
                "script, checksum, installed_by, execution_time, success) "
                "VALUES (%s, %s, %s, 'SQL', %s, %s, current_user, 0, true)",
                (
                    next_rank,
                    parsed.display_version if parsed and version else None,
                    parsed.description if parsed else name,
                    name,
                    flyway.checksum(text.encode("utf-8")),
                ),
            )
            next_rank += 1
            applied.append(name)
    return applied


# -- fixtures (imported by the conftest.py of tests/diff and tests/check) ---------------------------


@pytest.fixture(scope="session")
def dev_url(pg_server: PostgresServer) -> str:
    """The session server's maintenance database: schemac's shadow server in these tests."""
    return pg_server.url(pg_server.maintenance_database)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The school project, compiled once per session (its V001 is the same for every test)."""
    root = tmp_path_factory.mktemp("baseline") / "project"
    root.mkdir()
    (root / "schemac.yaml").write_text("version_width: 3\n", encoding="utf-8")
    (root / "schema").mkdir()
    (root / "schema" / "00_global.yaml").write_text(GLOBAL_YAML, encoding="utf-8")
    (root / SCHOOL_FILE).write_text(SCHOOL_YAML, encoding="utf-8")
    ok(run_schemac("compile", cwd=root))
    return root


@pytest.fixture
def project(baseline: Path, tmp_path: Path, dev_url: str, pg_server: PostgresServer) -> Project:
    """A fresh copy of the compiled school project."""
    root = tmp_path / "project"
    shutil.copytree(baseline, root)
    return Project(root, dev_url, pg_server)


@pytest.fixture(autouse=True)
def roles_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """Roles outlive databases: what a test's migrations did to them is undone afterwards."""
    if "pg_server" not in request.fixturenames:
        yield
        return
    from diff.oracle import restore_roles, snapshot_roles

    server: PostgresServer = request.getfixturevalue("pg_server")
    before = snapshot_roles(server)
    yield
    restore_roles(server, before)


@pytest.fixture
def database(pg_server: PostgresServer) -> Iterator[str]:
    """URL of an empty database on the session server, dropped after the test."""
    with scratch_database(pg_server) as url:
        yield url
