"""Exact privileges: an object's ACL is its owner's plus exactly what the YAML grants, PUBLIC
included. `diff` derives the REVOKEs, `check` and `check --db` name every privilege the YAML
does not declare (object, grantee, privilege), and the pg_dump oracle proves the result."""

from __future__ import annotations

import json

import psycopg

from diff.support import Project, flyway_migrate, ok
from diff.test_changes import diff_and_prove

LESSON_COUNT = "    volatility: stable\n    body: SELECT count(*)"


def test_public_execute_taken_from_a_function_is_a_derived_revoke(project: Project) -> None:
    project.edit(
        LESSON_COUNT, "    volatility: stable\n    grants: {public: []}\n    body: SELECT count(*)"
    )
    sql = diff_and_prove(project, "lesson count private")
    assert "revoke execute on function school.lesson_count(bigint) from public;" in sql
    # and given back: the YAML names PUBLIC with EXECUTE again (or no longer names it)
    project.edit(
        "    grants: {public: []}\n", "    grants: {public: [execute], school_reader: [execute]}\n"
    )
    sql = diff_and_prove(project, "lesson count public again")
    assert "grant execute on function school.lesson_count(bigint) to public;" in sql
    assert "grant execute on function school.lesson_count(bigint) to school_reader;" in sql


def test_an_object_grant_of_nothing_overrides_the_schema_wide_grant(project: Project) -> None:
    project.edit(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: integer, not_null: true, default: "0"}\n'
        "    grants: {school_app: []}\n",
    )
    sql = diff_and_prove(project, "lessons closed to the app")
    for privilege in ("select", "insert", "update", "delete"):
        assert f'revoke {privilege} on table "school"."lessons" from "school_app";' in sql
    assert '"school"."courses" from' not in sql


def test_check_db_names_each_undeclared_privilege(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON school.courses TO PUBLIC")
        conn.execute("GRANT TRUNCATE ON school.courses TO school_reader")
        conn.execute("REVOKE EXECUTE ON FUNCTION school.lesson_count(bigint) FROM PUBLIC")
        conn.execute("GRANT CREATE ON SCHEMA school TO school_reader")
    result = ok(project.check("--db", database, "--format", "json"), 1)
    messages = [
        f["message"].split(" differs from the YAML: ", 1)[1]
        for f in json.loads(result.stdout)["findings"]
    ]
    by_object = {message.split(": ", 1)[0]: message for message in messages}
    assert by_object["table school.courses"].endswith(
        "privileges: not declared SELECT to PUBLIC, TRUNCATE to school_reader"
    ), messages
    assert by_object["function school.lesson_count(bigint)"].endswith(
        "privileges: missing EXECUTE to PUBLIC"
    ), messages
    assert by_object["schema school"].endswith(
        "privileges: not declared CREATE to school_reader"
    ), messages


def test_definer_revoke_is_a_project_default_that_can_be_turned_off(project: Project) -> None:
    project.edit(
        LESSON_COUNT, "    volatility: stable\n    security: definer\n    body: SELECT count(*)"
    )
    sql = diff_and_prove(project, "lesson count definer")
    assert "revoke execute on function school.lesson_count(bigint) from public;" in sql
    # turned off: the definer routine keeps PUBLIC's EXECUTE, so diff gives it back
    (project.root / "schemac.yaml").write_text(
        "version_width: 3\nprivileges: {definer_revoke_public: false}\n", encoding="utf-8"
    )
    sql = diff_and_prove(project, "definer public")
    assert "grant execute on function school.lesson_count(bigint) to public;" in sql


def test_an_external_role_owns_a_schema_without_being_declared_a_role(project: Project) -> None:
    project.edit(
        "  school_reader: {}\n",
        "  school_reader: {}\nexternal:\n  roles: [school_platform]\n",
        "schema/00_global.yaml",
    )
    project.edit(
        "comment: Courses and lessons.\n",
        "comment: Courses and lessons.\nowner: school_platform\n"
        "function_grants: {school_platform: [execute]}\n",
    )
    sql = diff_and_prove(project, "platform owns school")
    assert 'alter schema "school" owner to "school_platform";' in sql or (
        "alter schema school owner to school_platform;" in sql
    ), sql
    assert "create role" not in sql and "do $" not in sql


def test_default_privileges_are_declared_diffed_and_checked(
    project: Project, database: str
) -> None:
    project.edit(
        "  school_reader: {}\n",
        "  school_reader: {}\ndefault_privileges:\n  functions: {public: []}\n"
        "  schemas: {school_reader: [usage]}\n",
        "schema/00_global.yaml",
    )
    project.edit(
        "comment: Courses and lessons.\n",
        "comment: Courses and lessons.\n"
        "default_privileges: {tables: {school_reader: [select]}, sequences: {school_app: [usage]}}\n",
    )
    sql = diff_and_prove(project, "default privileges")
    assert "alter default privileges revoke execute on functions from public;" in sql
    assert "alter default privileges grant usage on schemas to school_reader;" in sql
    assert (
        'alter default privileges in schema "school" grant select on tables to school_reader;'
        in sql
    )
    assert (
        'alter default privileges in schema "school" grant usage on sequences to school_app;' in sql
    )
    # the YAML's objects hold what the defaults give, whether created before or after them
    assert 'grant select on table "school"."courses" to "school_reader";' in sql
    assert "revoke execute on function school.lesson_count(bigint) from public;" in sql
    # a live database whose default privileges were changed by hand differs, by name
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA school GRANT DELETE ON TABLES TO school_reader"
        )
        conn.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
    result = ok(project.check("--db", database), 1)
    assert (
        "default privileges (current user) in school on tables: privileges: "
        "not declared DELETE to school_reader" in result.stdout
    ), result.stdout
    assert (
        "default privileges (current user) on functions: privileges: "
        "not declared EXECUTE to PUBLIC" in result.stdout
    ), result.stdout


def test_type_usage_is_exact_public_included(project: Project) -> None:
    project.edit(
        "  level: [beginner, advanced]\n",
        "  level: {values: [beginner, advanced], grants: {public: [], school_app: [usage]}}\n",
    )
    sql = diff_and_prove(project, "level closed")
    assert 'revoke usage on type "school"."level" from public;' in sql or (
        "revoke usage on type school.level from public;" in sql
    ), sql
    assert "grant usage on type school.level to school_app;" in sql, sql


COMPOSITE_AND_RANGE = (
    "composite_types:\n"
    "  price:\n"
    "    attributes: {amount: numeric, currency: text}\n"
    "    grants: {public: [], school_app: [usage]}\n"
    "range_types:\n"
    "  price_range:\n"
    "    subtype: numeric\n"
    "    grants: {public: [], school_reader: [usage]}\n"
)


def test_composite_and_range_usage_is_exact_public_included(project: Project) -> None:
    enums = "enums:\n  level: [beginner, advanced]\n"
    project.edit(enums, enums + COMPOSITE_AND_RANGE)
    sql = diff_and_prove(project, "price types closed")
    for type_name, role in (("price", "school_app"), ("price_range", "school_reader")):
        assert f"revoke usage on type school.{type_name} from public;" in sql, sql
        assert f"grant usage on type school.{type_name} to {role};" in sql, sql
    # PUBLIC given back and the role's grant taken: derived, on both kinds
    project.edit(
        "    grants: {public: [], school_app: [usage]}\n", "    grants: {public: [usage]}\n"
    )
    project.edit("    grants: {public: [], school_reader: [usage]}\n", "")
    sql = diff_and_prove(project, "price types open")
    assert "grant usage on type school.price to public;" in sql, sql
    assert "revoke usage on type school.price from school_app;" in sql, sql
    assert "grant usage on type school.price_range to public;" in sql, sql
    assert "revoke usage on type school.price_range from school_reader;" in sql, sql


def test_public_usage_on_the_public_schema_is_revoked_when_not_named(project: Project) -> None:
    project.write(
        "schema/02_public.yaml", "schema: public\ngrants: {public: [], school_app: [usage]}\n"
    )
    sql = diff_and_prove(project, "public schema closed")
    assert "revoke usage on schema public from public;" in sql, sql
    assert "grant usage on schema public to school_app;" in sql, sql
    check = ok(project.check())
    assert "schemac check: ok" in check.stdout
    # PUBLIC named with USAGE again: given back, derived
    project.write("schema/02_public.yaml", "schema: public\ngrants: {public: [usage]}\n")
    sql = diff_and_prove(project, "public schema open")
    assert "grant usage on schema public to public;" in sql, sql
    assert "revoke usage on schema public from school_app;" in sql, sql


def test_a_grant_option_is_declared_diffed_and_taken_back(project: Project) -> None:
    project.edit(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: integer, not_null: true, default: "0"}\n'
        "    grants: {school_reader: [{select: with_grant_option}, insert]}\n",
    )
    sql = diff_and_prove(project, "reader may pass on select")
    assert "grant select on table school.lessons to school_reader with grant option;" in sql
    assert 'grant insert on table "school"."lessons" to "school_reader";' in sql, sql
    # the option taken back, SELECT kept: only the option is revoked
    project.edit("[{select: with_grant_option}, insert]", "[select, insert]")
    sql = diff_and_prove(project, "reader keeps select")
    assert "revoke grant option for select on table school.lessons from school_reader;" in sql, sql


def test_public_cannot_hold_a_grant_option(project: Project) -> None:
    project.edit(
        LESSON_COUNT,
        "    volatility: stable\n    grants: {public: [{execute: with_grant_option}]}\n"
        "    body: SELECT count(*)",
    )
    result = ok(project.check(), 2)
    assert (
        "01_school.yaml:47:14: error[E321]: public cannot hold a privilege with_grant_option"
        in result.stdout
    ), result.stdout


def test_an_object_that_names_a_role_holds_only_its_own_list_despite_default_privileges(
    project: Project, database: str
) -> None:
    # PostgreSQL gives the defaults at CREATE; the YAML's `role: [...]` on the object is all
    # that role holds there, so the defaults' extra privileges are revoked right after.
    project.edit(
        "comment: Courses and lessons.\n",
        "comment: Courses and lessons.\n"
        "default_privileges: {tables: {school_reader: [select, insert]}}\n",
    )
    project.edit(
        "tables:\n",
        "tables:\n"
        "  notes:\n"
        "    columns: {id: {type: bigint, primary_key: true}}\n"
        "    grants: {school_reader: [select]}\n"
        "  secrets:\n"
        "    columns: {id: {type: bigint, primary_key: true}}\n"
        "    grants: {school_reader: []}\n"
        "  open_notes:\n"
        "    columns: {id: {type: bigint, primary_key: true}}\n",
    )
    diff_and_prove(project, "defaults overridden")
    flyway_migrate(database, project.generated)
    with psycopg.connect(database) as conn:
        held = {
            (table, privilege): conn.execute(
                "SELECT has_table_privilege('school_reader', %s, %s)",
                (f"school.{table}", privilege),
            ).fetchone()[0]  # type: ignore[index]
            for table in ("notes", "secrets", "open_notes")
            for privilege in ("SELECT", "INSERT")
        }
    assert held == {
        ("notes", "SELECT"): True,
        ("notes", "INSERT"): False,
        ("secrets", "SELECT"): False,
        ("secrets", "INSERT"): False,
        ("open_notes", "SELECT"): True,
        ("open_notes", "INSERT"): True,
    }
    ok(project.check("--db", database))
