"""`schemac diff --db`: a live database drifted by hand, repaired exactly by the script it
prints, and the database itself never written by schemac."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg

from diff.support import Project, flyway_migrate, ok
from schemac.server_binaries import embedded_bin_dir

DRIFT = """
ALTER TABLE school.lessons ALTER COLUMN position SET DEFAULT 5;
DROP INDEX school.courses_level_created_at_idx;
CREATE OR REPLACE FUNCTION school.lesson_count(p_course bigint) RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT count(*) + 1 FROM school.lessons WHERE course_id = p_course $$;
GRANT DELETE ON school.lessons TO school_reader;
"""
EXTRA_COLUMN = "ALTER TABLE school.lessons ADD COLUMN notes text;"


def _execute(url: str, statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statements.encode())


def _psql(url: str, script: Path) -> None:
    """The script as a person runs it: psql, stopping at the first error."""
    completed = subprocess.run(
        [str(embedded_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url,
         "-f", str(script)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr


def _drifted(project: Project, database: str, *extra: str) -> None:
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    _execute(database, DRIFT + "".join(extra))
    assert project.check("--db", database).returncode == 1


def test_each_drift_is_repaired_exactly(project: Project, database: str, tmp_path: Path) -> None:
    _drifted(project, database)
    script = tmp_path / "repair.sql"
    result = ok(
        project.run("diff", "--db", database, "--dev-url", project.dev_url, "-o", str(script))
    )
    assert result.stdout == ""
    text = script.read_text(encoding="utf-8").lower()
    assert 'alter column "position" set default 0' in text  # the changed default
    # the dropped index, built again without blocking writes (diff's online plan)
    assert "create index concurrently courses_level_created_at_idx on school.courses" in text
    assert "create or replace function school.lesson_count" in text  # altered function
    assert "count(*) + 1" not in text
    assert 'revoke delete on table "school"."lessons" from "school_reader"' in text  # extra grant
    # Only read: the database still drifts until the script runs.
    assert project.check("--db", database).returncode == 1
    assert not (project.generated / "migrations" / script.name).exists()
    before = project.snapshot()
    _psql(database, script)
    ok(project.check("--db", database))
    assert project.snapshot() == before  # generated/ untouched


def test_a_destructive_repair_needs_the_flag(project: Project, database: str) -> None:
    _drifted(project, database, EXTRA_COLUMN)
    refused = project.run("diff", "--db", database, "--dev-url", project.dev_url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stdout == "" and "refused" in refused.stderr and "notes" in refused.stderr
    allowed = ok(
        project.run("diff", "--db", database, "--dev-url", project.dev_url, "--allow-destructive")
    )
    assert 'drop column "notes"' in allowed.stdout.lower()
    script = project.root / "repair.sql"
    script.write_text(allowed.stdout, encoding="utf-8")
    _psql(database, script)
    ok(project.check("--db", database))


def test_no_drift_prints_nothing(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    result = ok(project.run("diff", "--db", database, "--dev-url", project.dev_url))
    assert result.stdout == "" and "no difference" in result.stderr


def test_the_script_never_goes_into_flyways_location(project: Project, database: str) -> None:
    target = project.generated / "migrations" / "V999__repair.sql"
    result = project.run("diff", "--db", database, "--dev-url", project.dev_url, "-o", str(target))
    assert result.returncode == 2 and "Flyway's location" in result.stderr
    assert not target.exists()
