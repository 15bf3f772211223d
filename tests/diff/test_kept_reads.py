"""What diff reads from template databases is kept between runs (schemac.inspections): the
plan it gives must be the plan a run that reads everything afresh gives, and what it writes
must build the YAML (the pg_dump oracle)."""

from __future__ import annotations

from pathlib import Path

from diff.oracle import assert_migrations_build_desired_state
from diff.support import Project, new_migration_sql, ok

MINUTES = (
    '      position: {type: integer, not_null: true, default: "0"}\n',
    '      position: {type: integer, not_null: true, default: "0"}\n'
    "      minutes: {type: integer}\n",
)


def kept_files(project: Project) -> list[Path]:
    folder = project.root / ".schemac" / "cache" / "templates-read"
    return sorted(folder.glob("*")) if folder.is_dir() else []


def fresh_plan(project: Project, message: str) -> str:
    """What diff plans when nothing is kept."""
    result = ok(project.run("diff", "-m", message, "--dev-url", project.dev_url, "--dry-run",
                            env={"SCHEMAC_NO_CACHE": "1"}))  # fmt: skip
    return new_migration_sql(result)


def test_a_kept_read_gives_the_plan_a_fresh_read_gives(project: Project) -> None:
    project.edit(*MINUTES)
    first = new_migration_sql(ok(project.diff("minutes", "--dry-run")))
    kinds = sorted(p.suffix for p in kept_files(project))
    # A's inspection, B's dump, migra's statements from A to B (B's inspection is then not
    # needed again: not kept).
    assert kinds == [".dump", ".inspection", ".statements"], kinds
    stamps = {p: p.stat().st_mtime_ns for p in kept_files(project)}
    again = new_migration_sql(ok(project.diff("minutes", "--dry-run")))
    assert {p: p.stat().st_mtime_ns for p in kept_files(project)}.keys() == stamps.keys()
    assert again == first == fresh_plan(project, "minutes")
    assert 'add column "minutes" integer' in first
    # Another edit: B is another template, A's inspection is still the one kept.
    project.edit("      minutes: {type: integer}\n", "      minutes: {type: bigint}\n")
    other = new_migration_sql(ok(project.diff("minutes")))
    assert 'add column "minutes" bigint' in other
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)


def test_a_damaged_kept_file_is_read_again(project: Project) -> None:
    project.edit(*MINUTES)
    first = new_migration_sql(ok(project.diff("minutes", "--dry-run")))
    for path in kept_files(project):
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
    assert new_migration_sql(ok(project.diff("minutes"))) == first
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)


def test_a_rename_is_not_diffed_from_the_kept_inspection_of_a(project: Project) -> None:
    """The renames run on the work copy of A before migra: A's kept inspection no longer
    describes it, so migra must read the copy itself (else: drop and add)."""
    project.edit(*MINUTES)
    ok(project.diff("minutes", "--dry-run"))  # A's inspection kept
    project.edit("      minutes: {type: integer}\n", "")
    project.edit(
        "      title: {type: text, not_null: true}\n      position:",
        "      heading: {type: text, not_null: true, renamed_from: title}\n      position:",
    )
    sql = new_migration_sql(ok(project.diff("heading"))).lower()
    assert 'alter table "school"."lessons" rename column "title" to "heading";' in sql
    assert "drop column" not in sql and "add column" not in sql
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)


def test_kept_statements_are_not_used_once_a_rename_changed_the_work_copy(
    project: Project,
) -> None:
    """A rename declared on a YAML that builds the same shadow B: migra's statements kept for
    A -> B (drop and add) no longer apply once the rename ran on the work copy of A."""
    project.edit("      title: {type: text, not_null: true}\n", "      heading: {type: text}\n")
    dropped = new_migration_sql(ok(project.diff("heading", "--dry-run", "--allow-destructive")))
    dropped = dropped.lower()
    assert "drop column" in dropped and "add column" in dropped
    assert ".statements" in [p.suffix for p in kept_files(project)]
    project.edit(
        "      heading: {type: text}\n", "      heading: {type: text, renamed_from: title}\n"
    )
    sql = new_migration_sql(ok(project.diff("heading"))).lower()
    assert 'alter table "school"."lessons" rename column "title" to "heading";' in sql
    assert "drop column" not in sql and "add column" not in sql
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)
