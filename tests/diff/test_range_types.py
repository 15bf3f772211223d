"""Range types (schemac.kinds.ranges): created, used by a column, changed and dropped by
`schemac diff`, each migration proven by `schemac check` and the pg_dump oracle, or refused
naming the type."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from command_line import run_schemac
from diff.support import Project, flyway_migrate, ok
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


CLOSED_RANGE = (
    ENUMS + "range_types:\n"
    "  price_range:\n"
    "    subtype: numeric\n"
    "    grants: {public: [], school_reader: [{usage: with_grant_option}]}\n"
)
MULTIRANGE = '"school"."price_multirange"'


def _multirange_privileges(url: str) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT pg_catalog.has_type_privilege('public', 'school.price_multirange', 'USAGE'),"
            " pg_catalog.has_type_privilege('school_reader', 'school.price_multirange',"
            " 'USAGE WITH GRANT OPTION')"
        ).fetchone()
    assert found is not None
    return tuple(found)


def test_a_ranges_grants_reach_its_multirange(project: Project, database: str) -> None:
    """PostgreSQL 16 and older keep a multirange's ACL apart from its range's: the range's
    grants are given to it too, in a block only those servers run (17+ refuses GRANT on a
    multirange: its privileges are the range's). Whichever server builds the shadows, the
    database Flyway builds holds what the YAML says on both types; a hand-made grant on the
    multirange is a finding of `check --db` where the server keeps one."""
    project.edit(ENUMS, CLOSED_RANGE)
    sql = diff_and_prove(project, "add a closed range")
    assert "revoke usage on type school.price_multirange from public;" in sql
    assert "current_setting('server_version_num')::integer < 170000" in sql
    compiled = ok(run_schemac("compile", "--rebaseline", "--offline", cwd=project.root))
    assert compiled.returncode == 0
    baseline = "".join(p.read_text() for p in sorted(project.generated.glob("migrations/V*.sql")))
    assert f"REVOKE ALL ON TYPE {MULTIRANGE} FROM PUBLIC;" in baseline
    assert f'GRANT USAGE ON TYPE {MULTIRANGE} TO "school_reader" WITH GRANT OPTION;' in baseline
    flyway_migrate(database, project.generated)
    assert _multirange_privileges(database) == (False, True)
    assert "schemac check: ok" in ok(project.check("--db", database)).stdout
    with psycopg.connect(database, autocommit=True) as conn:
        own_acl = conn.info.server_version < 170000
        if not own_acl:
            with pytest.raises(psycopg.errors.InvalidGrantOperation):
                conn.execute("GRANT USAGE ON TYPE school.price_multirange TO PUBLIC")
            return
        conn.execute("GRANT USAGE ON TYPE school.price_multirange TO PUBLIC")
    found = project.check("--db", database)
    assert found.returncode != 0, found.stdout
    assert "multirange" in found.stdout + found.stderr, found.stdout + found.stderr
