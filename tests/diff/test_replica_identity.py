"""REPLICA IDENTITY on tables (schemac.kinds.replica_identity): set, changed and reset by
`schemac diff` (migra does not compare it), each migration proven by `schemac check` and the
pg_dump oracle; a new table gets its identity in its own SQL."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove

UNIQUE = "    unique:\n      - [course_id, position]\n"


def test_replica_identity_full_then_an_index_then_default(project: Project) -> None:
    project.edit(UNIQUE, UNIQUE + "    replica_identity: full\n")
    sql = diff_and_prove(project, "lessons replicated in full")
    assert 'alter table "school"."lessons" replica identity full;' in sql
    project.edit(
        "    replica_identity: full\n",
        "    replica_identity: {index: lessons_course_id_position_key}\n",
    )
    sql = diff_and_prove(project, "lessons replicated by their key")
    assert "replica identity using index" in sql and "lessons_course_id_position_key" in sql
    project.edit("    replica_identity: {index: lessons_course_id_position_key}\n", "")
    sql = diff_and_prove(project, "lessons replicated by default")
    assert 'alter table "school"."lessons" replica identity default;' in sql


def test_a_new_table_gets_its_replica_identity(project: Project) -> None:
    project.edit(
        "  lessons:\n",
        "  audit:\n"
        "    replica_identity: nothing\n"
        "    columns:\n"
        "      id: {type: bigint, primary_key: true}\n"
        "  lessons:\n",
    )
    sql = diff_and_prove(project, "audit table")
    assert 'alter table "school"."audit" replica identity nothing;' in sql


def test_an_index_that_is_no_key_of_the_table_is_an_error(project: Project) -> None:
    project.edit(UNIQUE, UNIQUE + "    replica_identity: {index: nosuch}\n")
    result = ok(project.diff("bad identity"), 2)
    assert "E373" in result.stderr and "nosuch" in result.stderr
    assert "lessons_course_id_position_key" in result.stderr  # the hint names the keys
