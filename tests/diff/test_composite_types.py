"""Composite types, the kind added through the registry (schemac.kinds.composites): created,
changed and dropped by `schemac diff`, each migration proven by `schemac check` and the
pg_dump oracle, or refused naming the type."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove

ENUMS = "enums:\n  level: [beginner, advanced]\n"
WITH_TYPE = (
    ENUMS + "composite_types:\n"
    "  money_range:\n"
    "    comment: Prices from and to.\n"
    "    attributes:\n"
    '      low: "numeric(8,2)"\n'
    '      high: "numeric(8,2)"\n'
    "      level: level\n"
)


def _with_type(project: Project) -> None:
    project.edit(ENUMS, WITH_TYPE)
    sql = diff_and_prove(project, "add money range")
    assert 'create type "school"."money_range" as (' in sql
    assert "comment on type" in sql and "prices from and to." in sql


def test_a_composite_type_is_created(project: Project) -> None:
    _with_type(project)
    check = ok(project.check())
    assert "schemac check: ok" in check.stdout


def test_a_column_of_a_composite_type(project: Project) -> None:
    project.edit(ENUMS, WITH_TYPE)
    created = "      created_at: {type: timestamptz, not_null: true, default: now()}\n"
    project.edit(created, created + "      range: {type: money_range}\n")
    sql = diff_and_prove(project, "add price range")
    # The type comes before the column that uses it.
    assert sql.index('create type "school"."money_range"') < sql.index('add column "range"')


def _refused_naming_the_type(project: Project, message: str) -> None:
    """migra re-creates a composite type to change it: diff refuses that as a loss, naming the
    type, and writes nothing."""
    before = project.migrations()
    result = ok(project.diff(message), 2)
    assert "drops type school.money_range" in result.stderr
    assert "Nothing was written" in result.stderr
    assert project.migrations() == before


def test_an_attribute_added(project: Project) -> None:
    _with_type(project)
    project.edit("      level: level\n", "      level: level\n      note: text\n")
    _refused_naming_the_type(project, "add a note to money range")
    # Allowed, the type (used by no column) is re-created with the attribute: exactly.
    sql = diff_and_prove(project, "add a note to money range", "--allow-destructive")
    assert 'drop type "school"."money_range"' in sql
    assert '"note" text' in sql


def test_an_attribute_type_changed(project: Project) -> None:
    _with_type(project)
    project.edit('      high: "numeric(8,2)"\n', '      high: "numeric(12,2)"\n')
    _refused_naming_the_type(project, "wider high")


def test_a_composite_type_dropped(project: Project) -> None:
    _with_type(project)
    project.edit(WITH_TYPE, ENUMS)
    sql = diff_and_prove(project, "drop money range", "--allow-destructive")
    assert 'drop type "school"."money_range"' in sql
