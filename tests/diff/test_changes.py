"""One test per class of change: `schemac diff` writes the migration, and replaying every
migration on a fresh database builds exactly what the YAML declares (`schemac check` passes).
"""

from __future__ import annotations

import psycopg
import pytest

from diff.oracle import assert_migrations_build_desired_state
from diff.support import Project, flyway_migrate, new_migration_sql, ok


def diff_and_prove(
    project: Project, message: str, *options: str, ignore_column_order: bool = False
) -> str:
    """Run `schemac diff`, then `schemac check`, then the pg_dump oracle; return the new
    migration's SQL, lower case."""
    before = project.migrations()
    result = ok(project.diff(message, *options))
    project.last_stderr = result.stderr
    added = [name for name in project.migrations() if name not in before]
    assert added, f"no migration written:\n{result.stdout}\n{result.stderr}"
    for name in added:
        assert name in result.stdout  # the migration is printed
    check = ok(project.check())
    assert "schemac check: ok" in check.stdout
    assert project.server is not None
    assert_migrations_build_desired_state(
        project.server, project.root, ignore_column_order=ignore_column_order
    )
    return new_migration_sql(result).lower()


# -- columns --------------------------------------------------------------------------------------


def test_add_column(project: Project) -> None:
    project.edit(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: integer, not_null: true, default: "0"}\n'
        '      minutes: {type: integer, not_null: true, default: "0", comment: Length.}\n',
    )
    sql = diff_and_prove(project, "add lesson minutes")
    assert project.migrations()[-1] == "V002__add_lesson_minutes.sql"
    assert 'alter table "school"."lessons" add column "minutes" integer not null default 0;' in sql
    assert "comment on column school.lessons.minutes is 'length.';" in sql


def test_drop_column(project: Project) -> None:
    project.edit('      code: {type: "varchar(20)"}\n', "")
    sql = diff_and_prove(project, "drop course code", "--allow-destructive")
    assert 'alter table "school"."courses" drop column "code";' in sql


def test_alter_column_type_widening(project: Project) -> None:
    project.edit('code: {type: "varchar(20)"}', 'code: {type: "varchar(40)"}')
    sql = diff_and_prove(project, "longer course codes")
    assert 'alter column "code" set data type character varying(40)' in sql


def test_alter_column_default(project: Project) -> None:
    project.edit(
        'position: {type: integer, not_null: true, default: "0"}',
        'position: {type: integer, not_null: true, default: "1"}',
    )
    sql = diff_and_prove(project, "lessons start at one")
    assert 'alter table "school"."lessons" alter column "position" set default 1;' in sql


def test_alter_column_nullability(project: Project) -> None:
    project.edit('price: {type: "numeric(8,2)"}', 'price: {type: "numeric(8,2)", not_null: true}')
    sql = diff_and_prove(project, "price required")
    assert 'alter table "school"."courses" alter column "price" set not null;' in sql


# -- tables ---------------------------------------------------------------------------------------


def test_add_table(project: Project) -> None:
    project.edit(
        "functions:\n",
        """\
  ratings:
    comment: One learner's rating of a course.
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      course_id: {type: bigint, not_null: true, references: courses}
      stars: {type: smallint, not_null: true, check: "stars BETWEEN 1 AND 5"}
    grants: {school_reader: [select]}
functions:
""",
    )
    sql = diff_and_prove(project, "add course ratings")
    assert 'create table "school"."ratings"' in sql
    assert "foreign key (course_id) references school.courses(id)" in sql
    assert "comment on table school.ratings is 'one learner''s rating of a course.';" in sql
    assert 'grant select on table "school"."ratings" to "school_reader";' in sql
    assert project.migrations()[-1] == "V002__add_course_ratings.sql"


def test_drop_table(project: Project) -> None:
    text = project.read("schema/01_school.yaml")
    start = text.index("  lessons:\n")
    end = text.index("functions:\n")
    project.write(
        "schema/01_school.yaml",
        text[:start]
        + text[end:]
        .replace(
            "SELECT count(*) FROM school.lessons WHERE course_id = p_course", "SELECT 0::bigint"
        )
        .replace(
            "SELECT course_id, count(*) AS lessons FROM school.lessons GROUP BY course_id",
            "SELECT id AS course_id, 0::bigint AS lessons FROM school.courses",
        ),
    )
    sql = diff_and_prove(project, "drop lessons", "--allow-destructive")
    assert 'drop table "school"."lessons";' in sql


# -- indexes and constraints ----------------------------------------------------------------------


def test_index_changes_partial_and_expression(project: Project) -> None:
    project.edit(
        "      - {columns: [level, created_at desc]}\n",
        '      - {columns: [level, created_at desc], where: "price IS NOT NULL"}\n'
        '      - {columns: [{expression: "lower(title)"}], name: courses_title_lower_idx}\n',
    )
    sql = diff_and_prove(project, "index changes")
    assert 'drop index if exists "school"."courses_level_created_at_idx";' in sql
    # Built concurrently, each in a file of its own (docs/safety.md): the table exists.
    assert (
        "create index concurrently courses_level_created_at_idx on school.courses "
        "(level, created_at desc) where price is not null;" in sql
    )
    assert (
        "create index concurrently courses_title_lower_idx on school.courses ((lower(title)));"
        in sql
    )
    assert [n.split("__", 1)[1] for n in project.migrations()[-3:]] == [
        "index_changes.sql",
        "index_changes_index_courses_level_created_at_idx.sql",
        "index_changes_index_courses_title_lower_idx.sql",
    ]


def test_concurrent_index_gets_a_file_of_its_own(project: Project) -> None:
    project.edit(
        "      - {columns: [level, created_at desc]}\n",
        "      - {columns: [level, created_at desc]}\n"
        "      - {columns: [price], concurrently: true, comment: For price filters.}\n",
    )
    diff_and_prove(project, "price index")
    name = "V002__price_index_index_courses_price_idx.sql"
    assert project.migrations()[-1] == name
    text = project.read(f"generated/migrations/{name}")
    assert "CREATE INDEX CONCURRENTLY courses_price_idx ON school.courses (price);" in text
    assert "COMMENT ON INDEX school.courses_price_idx IS 'For price filters.';" in text
    assert project.read(f"generated/migrations/{name}.conf") == "executeInTransaction=false\n"


def test_constraint_changes(project: Project) -> None:
    project.edit(
        "title_not_blank: \"btrim(title) <> ''\"", 'title_not_blank: "length(btrim(title)) > 2"'
    )
    project.edit(
        "    unique:\n      - [course_id, position]\n",
        "    unique:\n      - [course_id, position]\n      - [course_id, title]\n",
    )
    # The key's index is built in the migration (the ADD CONSTRAINT ... USING INDEX after it
    # needs it there): writes wait for the build, and `check` fails until the project accepts it.
    project.write(
        "schemac.yaml",
        "version_width: 3\nlint:\n  acknowledge:\n"
        "    - {rule: index-build-blocks-writes, object: school.lessons, reason: small table}\n",
    )
    sql = diff_and_prove(project, "constraint changes")
    assert 'alter table "school"."courses" drop constraint "title_not_blank";' in sql
    assert 'add constraint "title_not_blank" check ((length(btrim(title)) > 2))' in sql
    assert (
        'add constraint "lessons_course_id_title_key" unique using index "lessons_course_id_title_key"'
        in sql
    )


# -- types ----------------------------------------------------------------------------------------


def test_enum_value_added(project: Project) -> None:
    project.edit("level: [beginner, advanced]", "level: [beginner, intermediate, advanced]")
    project.edit("default: \"'beginner'\"", "default: \"'intermediate'\"")
    sql = diff_and_prove(project, "intermediate level")
    # New enum values commit before anything may use them, so they get the first migration.
    assert project.migrations()[-2:] == [
        "V002__intermediate_level_enum_values.sql",
        "V003__intermediate_level.sql",
    ]
    assert "alter type school.level add value 'intermediate' before 'advanced';" in sql
    assert "set default 'intermediate'::school.level;" in sql
    assert "__old_version_to_be_dropped" not in sql  # no rename-and-recreate of the type


# -- views and functions --------------------------------------------------------------------------


def test_view_depending_on_view_changed(project: Project) -> None:
    project.edit(
        "query: SELECT id, title, level FROM school.courses",
        "query: SELECT id, title, level, price FROM school.courses",
    )
    project.edit(
        "query: SELECT id, title FROM school.course_titles WHERE level = 'advanced'",
        "query: SELECT id, title, price FROM school.course_titles WHERE level = 'advanced'",
    )
    sql = diff_and_prove(project, "prices in views")
    assert sql.index('view "school"."course_titles"') < sql.index(
        'view "school"."advanced_titles" as'
    )


def test_view_options_changed(project: Project) -> None:
    project.edit(
        "    query: SELECT id, title, level FROM school.courses\n",
        "    query: SELECT id, title, level FROM school.courses\n    security_invoker: true\n",
    )
    sql = diff_and_prove(project, "invoker rights")
    assert "alter view school.course_titles set (security_invoker = true);" in sql


def test_materialized_view_changed(project: Project) -> None:
    project.edit(
        "SELECT course_id, count(*) AS lessons FROM school.lessons GROUP BY course_id",
        "SELECT course_id, count(*) AS lessons, max(position) AS last FROM school.lessons GROUP BY course_id",
    )
    sql = diff_and_prove(project, "last lesson")
    assert 'drop materialized view "school"."lesson_totals";' in sql
    assert 'create materialized view "school"."lesson_totals" as' in sql
    assert "with data;" in sql


def test_function_body_changed(project: Project) -> None:
    project.edit(
        "body: SELECT count(*) FROM school.lessons WHERE course_id = p_course",
        "body: SELECT count(*) FROM school.lessons WHERE course_id = p_course AND position > 0",
    )
    sql = diff_and_prove(project, "count real lessons")
    assert "create or replace function school.lesson_count(p_course bigint)" in sql
    assert "position > 0" in sql


def test_trigger_changed(project: Project) -> None:
    project.edit(
        "touch: {timing: before, events: [update], for_each: row, function: touch}",
        "touch: {timing: before, events: [insert, update], for_each: row, function: touch}",
    )
    sql = diff_and_prove(project, "touch on insert")
    assert 'drop trigger if exists "touch" on "school"."courses";' in sql
    assert "create trigger touch before insert or update on school.courses" in sql


# -- security -------------------------------------------------------------------------------------


def test_policy_changed(project: Project) -> None:
    project.edit(
        'visible: {command: select, using: "true"}',
        "visible: {command: select, roles: [school_reader], using: \"level = 'advanced'\"}",
    )
    sql = diff_and_prove(project, "narrower policy")
    assert 'drop policy "visible" on "school"."courses";' in sql
    assert 'create policy "visible"' in sql and "to school_reader" in sql


def test_row_level_security_toggled(project: Project) -> None:
    project.edit(
        "row_level_security: {enable: true}", "row_level_security: {enable: true, force: true}"
    )
    sql = diff_and_prove(project, "force rls")
    assert sql == "alter table school.courses force row level security;"


def test_row_level_security_disabled(project: Project) -> None:
    project.edit("    row_level_security: {enable: true}\n", "")
    sql = diff_and_prove(project, "no rls")
    assert 'alter table "school"."courses" disable row level security;' in sql


def test_comment_changed(project: Project) -> None:
    project.edit("comment: A course.", "comment: A course of lessons.")
    project.edit(
        "title: {type: text, not_null: true, comment: Shown in the catalogue.}",
        "title: {type: text, not_null: true}",
    )
    sql = diff_and_prove(project, "comments")
    assert sorted(sql.rstrip(";").split("; ")) == [
        "comment on column school.courses.title is null",
        "comment on table school.courses is 'a course of lessons.'",
    ]


def test_grant_changed(project: Project) -> None:
    project.edit(
        "table_grants: {school_app: [select, insert, update, delete]}",
        "table_grants: {school_app: [select, insert, update], school_reader: [select]}\n"
        "function_grants: {school_reader: [execute]}",
    )
    sql = diff_and_prove(project, "grants")
    assert 'revoke delete on table "school"."courses" from "school_app";' in sql
    assert 'grant select on table "school"."courses" to "school_reader";' in sql
    assert "grant execute on function school.lesson_count(bigint) to school_reader;" in sql


def test_new_role(project: Project) -> None:
    project.edit(
        "  school_reader: {}\n",
        "  school_reader: {}\n  school_auditor: {comment: Reads everything.}\n",
        "schema/00_global.yaml",
    )
    project.edit(
        "table_grants: {school_app: [select, insert, update, delete]}",
        "table_grants: {school_app: [select, insert, update, delete], school_auditor: [select]}",
    )
    sql = diff_and_prove(project, "auditor")
    assert sql.index('create role "school_auditor"') < sql.index('to "school_auditor"')


def test_role_membership_and_comment_removed(project: Project) -> None:
    project.edit(
        "  school_reader: {}\n",
        "  school_reader: {}\n  school_clerk: {member_of: [school_reader], comment: Files things.}\n",
        "schema/00_global.yaml",
    )
    diff_and_prove(project, "clerk")
    project.edit(
        "  school_clerk: {member_of: [school_reader], comment: Files things.}\n",
        "  school_clerk: {}\n",
        "schema/00_global.yaml",
    )
    # Roles live outside the database: the migration text is the only witness of the change.
    sql = diff_and_prove(project, "clerk leaves readers")
    assert 'revoke "school_reader" from "school_clerk";' in sql
    assert 'comment on role "school_clerk" is null;' in sql


# -- renames --------------------------------------------------------------------------------------


def test_rename_table_and_column_keeps_data(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO school.courses (title) VALUES ('Algebra')")
        conn.execute(
            "INSERT INTO school.lessons (course_id, title, position) "
            "SELECT id, 'Sets', 1 FROM school.courses"
        )
    text = project.read("schema/01_school.yaml")
    text = text.replace(
        "  lessons:\n    columns:", "  units:\n    renamed_from: lessons\n    columns:"
    )
    text = text.replace(
        "      title: {type: text, not_null: true}\n      position:",
        "      heading: {type: text, not_null: true, renamed_from: title}\n      position:",
    )
    text = text.replace("school.lessons", "school.units")
    project.write("schema/01_school.yaml", text)
    sql = diff_and_prove(project, "lessons are units")
    assert 'alter table "school"."lessons" rename to "units";' in sql
    assert 'alter table "school"."units" rename column "title" to "heading";' in sql
    assert 'rename constraint "lessons_pkey" to "units_pkey"' in sql
    assert 'alter sequence "school"."lessons_id_seq" rename to "units_id_seq";' in sql
    assert "drop table" not in sql and "drop column" not in sql
    assert ok(project.check("--db", database), 1)  # not applied yet: pending, and drift
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT heading, position FROM school.units").fetchall() == [
            ("Sets", 1)
        ]


@pytest.mark.parametrize("change", ["widen", "narrow"])
def test_type_narrowing_is_destructive(project: Project, change: str) -> None:
    new = "varchar(40)" if change == "widen" else "varchar(10)"
    project.edit('code: {type: "varchar(20)"}', f'code: {{type: "{new}"}}')
    result = project.diff("code length", "--dry-run")
    if change == "widen":
        ok(result)
    else:
        ok(result, 2)
        assert (
            "changes the type of school.courses.code from character varying(20) to "
            "character varying(10)" in result.stderr
        )


# -- partitions, exclusion constraints, domains ---------------------------------------------------

EVENTS_TABLE = """\
  events:
    comment: Partitioned by month.
    columns:
      id: {type: bigint, not_null: true}
      occurred_at: {type: timestamptz, not_null: true}
    primary_key: [id, occurred_at]
    partition_by: {strategy: range, key: [occurred_at]}
    partitions:
      events_2026_01: {from: ["2026-01-01"], to: ["2026-02-01"]}
"""


def test_partitioned_table_added_then_partitions_added(project: Project) -> None:
    project.edit("tables:\n", "tables:\n" + EVENTS_TABLE)
    sql = diff_and_prove(project, "events")
    assert 'create table "school"."events"' in sql
    assert "partition by range (occurred_at)" in sql
    assert "events_2026_01" in sql
    project.edit(
        '      events_2026_01: {from: ["2026-01-01"], to: ["2026-02-01"]}\n',
        '      events_2026_01: {from: ["2026-01-01"], to: ["2026-02-01"]}\n'
        '      events_2026_02: {from: ["2026-02-01"], to: ["2026-03-01"]}\n'
        "      events_default: {default: true}\n",
    )
    sql = diff_and_prove(project, "more event partitions")
    assert "events_2026_02" in sql
    assert "events_default" in sql
    assert "events_2026_01" not in sql  # the existing partition is left alone
    # migra writes a new index of a partitioned table `ON ONLY` the parent plus one per
    # partition; schemac creates it on the parent, which builds the partitions' own.
    project.edit(
        "    partition_by: {strategy: range, key: [occurred_at]}\n",
        "    partition_by: {strategy: range, key: [occurred_at]}\n"
        "    indexes:\n"
        "      - {columns: [occurred_at desc]}\n",
    )
    # PostgreSQL cannot build an index on a partitioned table concurrently: the build blocks
    # writes, and `check` fails on squawk's finding until the project accepts it.
    project.write(
        "schemac.yaml",
        "version_width: 3\nlint:\n  acknowledge:\n"
        "    - {rule: require-concurrent-index-creation, object: school.events, reason: new}\n",
    )
    sql = diff_and_prove(project, "events by time")
    assert "create index events_occurred_at_idx on school.events using btree" in sql
    assert " on only " not in sql
    assert "events_2026_02_occurred_at_idx" not in sql


def test_exclusion_constraint_added(project: Project) -> None:
    project.edit(
        "    unique:\n      - [course_id, position]\n",
        "    unique:\n      - [course_id, position]\n"
        "    exclusions:\n"
        "      - using: gist\n"
        '        elements: [{expression: "int4range(\\"position\\", \\"position\\" + 10)", with: "&&"}]\n',
    )
    # An exclusion constraint builds its index under ACCESS EXCLUSIVE (it cannot be NOT
    # VALID): squawk's finding fails `check` until the project accepts it.
    project.write(
        "schemac.yaml",
        "version_width: 3\nlint:\n  acknowledge:\n"
        "    - {rule: constraint-missing-not-valid, object: school.lessons, reason: small table}\n",
    )
    sql = diff_and_prove(project, "lessons keep their distance")
    assert "exclude using gist" in sql
    assert "with &&" in sql


def test_domain_added_then_its_rules_changed(project: Project) -> None:
    project.edit(
        "enums:\n",
        "domains:\n"
        "  title_text:\n"
        "    type: text\n"
        '    checks: {title_length: "length(VALUE) <= 200"}\n'
        "enums:\n",
    )
    sql = diff_and_prove(project, "title domain")
    assert "create domain school.title_text as text" in sql
    assert "constraint title_length check" in sql
    project.edit(
        '    checks: {title_length: "length(VALUE) <= 200"}\n',
        '    checks: {title_length: "length(VALUE) <= 300"}\n'
        "    default: \"'untitled'\"\n"
        "    not_null: true\n",
    )
    sql = diff_and_prove(project, "longer titles")
    assert "alter domain school.title_text set default 'untitled'::text;" in sql
    assert "alter domain school.title_text set not null;" in sql
    assert "drop constraint title_length" in sql
    assert "add constraint title_length check" in sql
    assert "<= 300" in sql


# -- what migra alone loses or gets refused (issue 9) ---------------------------------------------


def test_column_type_change_rebuilds_only_the_views_that_read_it(project: Project) -> None:
    project.edit(
        "query: SELECT id, title, level FROM school.courses",
        "query: SELECT id, title, level, price FROM school.courses",
    )
    diff_and_prove(project, "price in titles")
    project.edit('price: {type: "numeric(8,2)"}', 'price: {type: "numeric(10,2)"}')
    project.edit(
        "    query: SELECT id, title, level, price FROM school.courses\n",
        "    query: SELECT id, title, level, price FROM school.courses\n"
        "    comment: Titles and prices.\n",
    )
    sql = diff_and_prove(project, "dearer courses")
    assert 'drop view "school"."advanced_titles";' in sql  # reads course_titles
    assert 'drop view "school"."course_titles";' in sql
    assert 'alter column "price" set data type numeric(10,2)' in sql
    assert sql.index('drop view "school"."course_titles"') < sql.index("set data type numeric")
    assert sql.index("set data type numeric") < sql.index('create view "school"."course_titles"')
    assert "lesson_totals" not in sql  # does not read the column: left alone
    assert "grant select on table school.course_titles to school_app;" in sql  # grants kept


def test_materialized_view_without_data_stays_without_data(project: Project) -> None:
    project.edit(
        "SELECT course_id, count(*) AS lessons FROM school.lessons GROUP BY course_id\n",
        "SELECT course_id, count(*) AS lessons FROM school.lessons GROUP BY course_id\n"
        "    with_data: false\n",
    )
    diff_and_prove(project, "totals without data")
    project.edit("count(*) AS lessons FROM", "count(*) AS lessons, max(position) AS last FROM")
    sql = diff_and_prove(project, "last lesson")
    assert sql.count("with no data") == 1 and "with data;" not in sql


def test_column_declared_mid_table_is_warned_about(project: Project) -> None:
    project.edit(
        "      title: {type: text, not_null: true}\n      position:",
        "      title: {type: text, not_null: true}\n      summary: {type: text}\n      position:",
    )
    diff_and_prove(project, "lesson summary", ignore_column_order=True)
    assert "warning: column summary of school.lessons is declared after column title" in (
        project.last_stderr
    )
    assert "PostgreSQL adds columns at the end of a table" in project.last_stderr


def test_function_settings_and_argument_defaults(project: Project) -> None:
    project.edit(
        "    arguments: [{name: p_course, type: bigint}]\n    volatility: stable\n",
        '    arguments: [{name: p_course, type: bigint, default: "0"}]\n    volatility: stable\n'
        '    set: {search_path: "pg_catalog, pg_temp"}\n',
    )
    sql = diff_and_prove(project, "pinned search path")
    assert "p_course bigint default 0" in sql
    assert "set search_path to 'pg_catalog', 'pg_temp'" in sql


def test_trigger_added_to_a_partitioned_table(project: Project) -> None:
    project.edit("tables:\n", "tables:\n" + EVENTS_TABLE)
    diff_and_prove(project, "events")
    project.edit(
        "    partition_by: {strategy: range, key: [occurred_at]}\n",
        "    partition_by: {strategy: range, key: [occurred_at]}\n"
        "    triggers:\n"
        "      touch_event: {timing: before, events: [update], for_each: row, function: touch}\n",
    )
    sql = diff_and_prove(project, "touch events")
    assert sql.count("create trigger") == 1


def test_generated_expression_changed(project: Project) -> None:
    project.edit(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: integer, not_null: true, default: "0"}\n'
        '      next_position: {type: integer, generated: "position + 1"}\n',
    )
    # A stored generated column added to an existing table fills every row: a rewrite.
    diff_and_prove(project, "next position", "--allow-rewrite")
    project.edit('generated: "position + 1"', 'generated: "position + 10"')
    assert project.server is not None
    # The target (postgres_version, 15 by default) has no SET EXPRESSION (17+): the column is
    # dropped and added again, at the end, where it already is.
    # The dropped column held only derived values (diff knows), squawk does not: accepted.
    project.write(
        "schemac.yaml",
        "version_width: 3\nlint:\n  acknowledge:\n"
        "    - {rule: ban-drop-column, object: school.lessons, reason: derived values only}\n",
    )
    sql = diff_and_prove(project, "next position further", "--allow-rewrite")
    assert 'alter table "school"."lessons" drop column "next_position";' in sql
    assert 'generated always as (("position" + 10)) stored' in sql
