"""Aggregates (schemac.kinds.aggregates): created, changed and dropped by `schemac diff`, each
migration proven by `schemac check` and the pg_dump oracle."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove

ENUMS = "enums:\n  level: [beginner, advanced]\n"
WITH_AGGREGATE = (
    ENUMS + "aggregates:\n"
    "  total_price:\n"
    "    comment: Prices added up.\n"
    '    args: ["numeric(8,2)"]\n'
    "    sfunc: numeric_add\n"
    "    stype: numeric\n"
    "    initcond: 0\n"
    "    grants: {school_reader: [execute]}\n"
)


def _with_aggregate(project: Project) -> str:
    project.edit(ENUMS, WITH_AGGREGATE)
    return diff_and_prove(project, "add total price")


def test_an_aggregate_is_created_with_its_grants_and_comment(project: Project) -> None:
    sql = _with_aggregate(project)
    assert 'create aggregate "school"."total_price"(numeric) (' in sql
    assert "grant execute on function school.total_price(numeric) to school_reader" in sql
    assert "prices added up." in sql
    assert "schemac check: ok" in ok(project.check()).stdout


def test_an_aggregate_changed_is_dropped_and_created_again(project: Project) -> None:
    _with_aggregate(project)
    project.edit("    initcond: 0\n", "    initcond: 0\n    parallel: safe\n")
    sql = diff_and_prove(project, "parallel total price", "--allow-destructive")
    assert sql.index('drop aggregate "school"."total_price"(numeric)') < sql.index(
        'create aggregate "school"."total_price"'
    )
    assert "parallel = safe" in sql
    # Its grant comes back with the supplements: check above proved the ACL.


def test_an_aggregate_dropped(project: Project) -> None:
    _with_aggregate(project)
    project.edit(WITH_AGGREGATE, ENUMS)
    sql = diff_and_prove(project, "drop total price", "--allow-destructive")
    assert 'drop aggregate "school"."total_price"(numeric)' in sql
