"""Range types (schemac.kinds.ranges): created, used by a column, changed and dropped by
`schemac diff`, each migration proven by `schemac check` and the pg_dump oracle, or refused
naming the type."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove

ENUMS = "enums:\n  level: [beginner, advanced]\n"
WITH_RANGE = (
    ENUMS + "range_types:\n"
    "  price_range:\n"
    "    comment: Prices from and to.\n"
    "    subtype: numeric\n"
    "  word_range:\n"
    "    subtype: text\n"
    '    collation: "C"\n'
    "    multirange_type_name: word_ranges\n"
)


def _with_ranges(project: Project) -> str:
    project.edit(ENUMS, WITH_RANGE)
    return diff_and_prove(project, "add ranges")


def test_range_types_are_created(project: Project) -> None:
    sql = _with_ranges(project)
    assert 'create type "school"."price_range" as range (' in sql
    assert 'multirange_type_name = "school"."word_ranges"' in sql
    assert "comment on type" in sql and "prices from and to." in sql
    assert "schemac check: ok" in ok(project.check()).stdout


def test_columns_of_a_range_and_its_multirange(project: Project) -> None:
    project.edit(ENUMS, WITH_RANGE)
    created = "      created_at: {type: timestamptz, not_null: true, default: now()}\n"
    project.edit(
        created,
        created
        # Multiranges by their short names: PostgreSQL's own (price_multirange) and declared
        # (word_ranges). Columns in name order: added columns are appended in that order.
        + "      price_sets: {type: price_multirange}\n"
        + "      prices: {type: price_range}\n"
        + "      qualified: {type: school.word_ranges}\n"
        + "      words: {type: word_ranges}\n",
    )
    sql = diff_and_prove(project, "add price ranges")
    # The types come before the columns that use them.
    assert sql.index('create type "school"."price_range"') < sql.index('add column "prices"')
    assert sql.index('create type "school"."word_range"') < sql.index('add column "words"')
    assert sql.index('create type "school"."price_range"') < sql.index('add column "price_sets"')
    assert 'add column "words" school.word_ranges;' in sql
    assert 'add column "price_sets" school.price_multirange;' in sql


def test_a_subtype_changed_is_refused_naming_the_type(project: Project) -> None:
    _with_ranges(project)
    before = project.migrations()
    project.edit("    subtype: numeric\n", "    subtype: integer\n")
    result = ok(project.diff("integer prices"), 2)
    assert "school.price_range" in result.stderr
    assert "Nothing was written" in result.stderr
    assert project.migrations() == before
    # Allowed, the type (used by no column) is re-created with its new subtype: exactly.
    sql = diff_and_prove(project, "integer prices", "--allow-destructive")
    assert "subtype = integer" in sql


def test_a_range_type_dropped(project: Project) -> None:
    _with_ranges(project)
    project.edit(WITH_RANGE, ENUMS)
    sql = diff_and_prove(project, "drop ranges", "--allow-destructive")
    assert 'drop type "school"."price_range"' in sql
