"""Publications (schemac.kinds.publications): created, changed (tables, column lists, row
filters, publish, FOR ALL TABLES) and dropped by `schemac diff` with the statements schemac
writes itself (migra does not know publications), each proven by `schemac check` and the
pg_dump oracle."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove

ENUMS = "enums:\n  level: [beginner, advanced]\n"
FEED = (
    "publications:\n"
    "  school_feed:\n"
    "    comment: What the reporting replica reads.\n"
    "    publish: [insert, update]\n"
    "    tables:\n"
    "      - courses\n"
)


def _with_feed(project: Project) -> str:
    project.edit(ENUMS, ENUMS + FEED)
    return diff_and_prove(project, "add school feed")


def test_a_publication_is_created_with_its_comment(project: Project) -> None:
    sql = _with_feed(project)
    assert 'create publication "school_feed" for table "school"."courses"' in sql
    assert "publish = 'insert, update'" in sql
    assert "what the reporting replica reads." in sql
    assert "schemac check: ok" in ok(project.check()).stdout


def test_tables_columns_and_row_filters_are_set(project: Project) -> None:
    _with_feed(project)
    project.edit(
        "      - courses\n",
        '      - {table: courses, columns: [id, title, level], where: "price > 0"}\n'
        "      - lessons\n",
    )
    sql = diff_and_prove(project, "feed lessons and advanced courses")
    assert (
        'alter publication "school_feed" set table "school"."courses" ("id", "title", "level")'
        in sql
    )
    assert "where ((price > (0)::numeric))" in sql and 'table "school"."lessons"' in sql


def test_publish_and_partition_root_are_set(project: Project) -> None:
    _with_feed(project)
    project.edit(
        "    publish: [insert, update]\n",
        "    publish: [insert, update, delete]\n    publish_via_partition_root: true\n",
    )
    sql = diff_and_prove(project, "feed deletes")
    assert "set (publish = 'insert, update, delete', publish_via_partition_root = true)" in sql


def test_every_table_then_none(project: Project) -> None:
    _with_feed(project)
    project.edit("    tables:\n      - courses\n", "    all_tables: true\n")
    sql = diff_and_prove(project, "feed everything")
    assert sql.index('drop publication "school_feed"') < sql.index("for all tables")
    project.edit("    all_tables: true\n", "")
    sql = diff_and_prove(project, "feed nothing")
    assert 'create publication "school_feed" with' in sql


def test_a_publication_dropped(project: Project) -> None:
    _with_feed(project)
    project.edit(FEED, "")
    sql = diff_and_prove(project, "drop feed")
    assert 'drop publication "school_feed";' in sql


def test_a_publication_of_an_unknown_column_is_an_error(project: Project) -> None:
    project.edit(
        ENUMS,
        ENUMS + FEED.replace("      - courses\n", "      - {table: courses, columns: [nosuch]}\n"),
    )
    result = ok(project.diff("bad feed"), 2)
    assert "E330" in result.stderr and "nosuch" in result.stderr
