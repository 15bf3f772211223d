"""`schemac diff` as a command: refusals, dry runs, nothing to do, errors at the YAML, cleanup."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diff.oracle import assert_migrations_build_desired_state
from diff.support import Project, ok, run_schemac


def test_destructive_change_is_refused_and_nothing_written(project: Project) -> None:
    before = project.snapshot()
    project.edit('      code: {type: "varchar(20)"}\n', "")
    project.edit('price: {type: "numeric(8,2)"}', 'price: {type: "numeric(6,2)"}')
    result = ok(project.diff("drop code, cheaper prices"), 2)
    assert "refused: the migration would lose data" in result.stderr
    assert "drops column code of school.courses and its data" in result.stderr
    assert (
        "changes the type of school.courses.price from numeric(8,2) to numeric(6,2)"
        in result.stderr
    )
    assert "--allow-destructive" in result.stderr
    assert project.snapshot() == before


def test_dry_run_prints_and_writes_nothing(project: Project) -> None:
    before = project.snapshot()
    project.edit("comment: A course.", "comment: One course.")
    result = ok(project.diff("course comment", "--dry-run"))
    assert "-- generated/migrations/V002__course_comment.sql" in result.stdout
    assert "COMMENT ON TABLE school.courses IS 'One course.';" in result.stdout
    assert "dry run: nothing was written" in result.stdout
    assert project.snapshot() == before


def test_no_difference_says_so_and_refreshes_a_stale_state_sum(project: Project) -> None:
    result = ok(project.diff("nothing"))
    assert "no difference" in result.stdout
    # The YAML is the state integrity.json records: no shadow server is even contacted.
    assert "connecting to the shadow server" not in result.stderr
    unreachable = "postgresql://nobody@127.0.0.1:1/postgres"
    result = ok(project.run("diff", "-m", "nothing", "--dev-url", unreachable))
    assert "no difference" in result.stdout
    # A change that renders differently but builds the same schema: only the recorded sum moves.
    project.edit('code: {type: "varchar(20)"}', 'code: {type: "character varying(20)"}')
    offline = ok(project.check("--offline"), 1)
    assert "the YAML changed since the last migration" in offline.stdout
    result = ok(project.diff("same schema"))
    assert "no difference" in result.stdout and "updated it" in result.stdout
    assert project.migrations() == ["V001__create_school_schema.sql"]
    ok(project.check("--offline"))
    # "No difference" is only right if the migrations really build the desired state.
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)


def test_diff_refuses_when_a_recorded_migration_was_edited(project: Project) -> None:
    path = project.generated / "migrations" / "V001__create_school_schema.sql"
    path.write_text(path.read_text(encoding="utf-8") + "\n-- a note\n", encoding="utf-8")
    project.edit("comment: A course.", "comment: One course.")
    result = ok(project.diff("comment"), 2)
    assert "V001__create_school_schema.sql was edited after schemac wrote it" in result.stderr


def test_diff_needs_a_message_with_letters(project: Project) -> None:
    result = ok(project.diff("!!!"), 2)
    assert "needs at least one letter or digit" in result.stderr


# -- errors at the YAML, and an embedded server that goes away -----------------------------------


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A TMPDIR for the command alone, readable by the unprivileged user PostgreSQL runs as."""
    folder = Path(tempfile.mkdtemp(prefix="schemac-difftest-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_postgres_error_points_at_the_yaml_and_no_server_is_left_behind(
    project: Project, private_tmp: Path
) -> None:
    project.edit(
        "query: SELECT id, title, level FROM school.courses",
        "query: SELECT id, title, levle FROM school.courses",
    )
    # A throwaway server (no warm one, which is meant to stay): it must leave nothing behind.
    throwaway = {"TMPDIR": str(private_tmp), "SCHEMAC_SHADOW_IDLE_SECONDS": "0"}
    result = run_schemac("diff", "-m", "typo", cwd=project.root, env=throwaway)
    ok(result, 2)
    line = next(
        n
        for n, text in enumerate(project.read("schema/01_school.yaml").splitlines(), 1)
        if text.strip() == "course_titles:"
    )
    assert f"schema/01_school.yaml:{line}:" in result.stderr
    assert (
        'PostgreSQL rejected view school.course_titles: column "levle" does not exist'
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    deadline = time.monotonic() + 10
    while processes_mentioning(str(private_tmp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(private_tmp)) == []
    assert list(private_tmp.iterdir()) == []  # the cluster's data directory is gone too


def test_unreachable_dev_server_is_an_environment_failure(project: Project) -> None:
    project.edit("comment: A course.", "comment: One course.")  # a change: a server is needed
    result = project.run(
        "diff", "-m", "x", "--dev-url", "postgresql://someone:s3cret@127.0.0.1:1/postgres"
    )
    ok(result, 3)
    assert "s3cret" not in result.stdout + result.stderr
    assert "someone:***@127.0.0.1:1" in result.stderr
