"""Names that need quotes through `schemac diff`: a schema, table, column, policy and trigger
whose names hold spaces, upper case, quotes and non-ASCII letters are created and renamed,
each migration proven by `schemac check` and the pg_dump oracle; a body that differs only in
trailing whitespace is a change."""

from __future__ import annotations

import psycopg

from diff.support import Project, flyway_migrate, ok
from diff.test_changes import diff_and_prove

QUOTED_FILE = "schema/02_quoted.yaml"
QUOTED_YAML = """\
schema: My Schema
comment: A schema whose name has a space.
tables:
  UserProfiles:
    columns:
      Id: {type: bigint, identity: always, primary_key: true}
      Prénom: {type: text, not_null: true}
      'x"; DROP TABLE t; --': {type: text}
    row_level_security: {enable: true}
    policies:
      Allow logged-in read access: {command: select, using: '"Id" > 0'}
    triggers:
      Touch Row: {timing: before, events: [update], for_each: row, function: '"Touch It"'}
    indexes:
      - {name: By Prénom, columns: ['"Prénom" desc']}
    comment: Profiles, "quoted".
functions:
  Touch It:
    language: plpgsql
    returns: trigger
    body: |
      BEGIN
          NEW."Prénom" := btrim(NEW."Prénom");
          RETURN NEW;
      END;
"""
NOTES = """\
  notes:
    columns:
      id: {type: bigint, primary_key: true}
      profile_id: {type: bigint, references: '"My Schema"."UserProfiles"("Id")'}
"""


def _with_quoted_schema(project: Project) -> str:
    project.write(QUOTED_FILE, QUOTED_YAML)
    return diff_and_prove(project, "add the quoted schema")


def test_a_schema_table_and_policy_with_quoted_names_are_created(project: Project) -> None:
    _with_quoted_schema(project)
    text = project.migration("add_the_quoted_schema")
    assert 'create schema if not exists "My Schema";' in text
    assert 'create table "My Schema"."UserProfiles" (' in text
    assert '    "x""; DROP TABLE t; --" text\n' in text
    assert 'create policy "Allow logged-in read access"\non "My Schema"."UserProfiles"' in text
    assert "COMMENT ON SCHEMA \"My Schema\" IS 'A schema whose name has a space.';" in text
    assert 'CREATE TRIGGER "Touch Row" BEFORE UPDATE ON "My Schema"."UserProfiles"' in text
    assert 'EXECUTE FUNCTION "My Schema"."Touch It"();' in text
    assert 'CREATE INDEX "By Prénom" ON "My Schema"."UserProfiles"' in text


def test_a_reference_to_a_quoted_table_and_renames(project: Project, database: str) -> None:
    _with_quoted_schema(project)
    project.edit("  lessons:\n", NOTES + "  lessons:\n")
    diff_and_prove(project, "notes of profiles")
    text = project.migration("notes_of_profiles")
    assert 'REFERENCES "My Schema"."UserProfiles"("Id")' in text
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('INSERT INTO "My Schema"."UserProfiles" ("Prénom") VALUES (\'Zoë\')')
    # Renaming a quoted table and column keeps the rows.
    quoted = project.read(QUOTED_FILE)
    quoted = quoted.replace(
        "  UserProfiles:\n", "  User Profiles:\n    renamed_from: UserProfiles\n"
    ).replace("      Prénom: {type: text", "      Vorname: {renamed_from: Prénom, type: text")
    quoted = quoted.replace('"Prénom"', '"Vorname"')  # the index and the function's body
    project.write(QUOTED_FILE, quoted)
    project.edit('"My Schema"."UserProfiles"', '"My Schema"."User Profiles"')
    diff_and_prove(project, "profiles renamed")
    sql = project.migration("profiles_renamed")
    assert 'ALTER TABLE "My Schema"."UserProfiles" RENAME TO "User Profiles";' in sql
    assert 'RENAME COLUMN "Prénom" TO "Vorname";' in sql
    assert "DROP TABLE" not in sql and "DROP COLUMN" not in sql
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    with psycopg.connect(database) as conn:
        rows = conn.execute('SELECT "Vorname" FROM "My Schema"."User Profiles"').fetchall()
        assert rows == [("Zoë",)]


def test_a_policy_renamed_to_a_quoted_name(project: Project) -> None:
    project.edit(
        '      visible: {command: select, using: "true"}',
        '      Allow logged-in read access: {command: select, using: "true"}',
    )
    diff_and_prove(project, "policy with a quoted name", "--allow-destructive")
    text = project.migration("policy_with_a_quoted_name")
    assert '"Allow logged-in read access"' in text


def test_a_body_that_differs_only_in_trailing_whitespace_is_a_change(project: Project) -> None:
    project.edit(
        "    body: SELECT count(*) FROM school.lessons WHERE course_id = p_course\n",
        '    body: "SELECT count(*) FROM school.lessons WHERE course_id = p_course  \\n"\n',
    )
    ok(project.check(), 1)  # the YAML is ahead of the migrations: check sees the body change
    diff_and_prove(project, "body with trailing spaces")
    text = project.migration("body_with_trailing_spaces")
    assert "WHERE course_id = p_course  \n$function$" in text
