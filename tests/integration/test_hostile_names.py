"""Names written to break out of their quotes or their comment line are only names: compiled,
the migrations applied to a database that already holds a table `t`, pg_dump shows exactly the
declared objects under exactly those names, and `t` is still there."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg

from diff.oracle import schema_dump
from schemac.compiler import compile_project
from schemac.emit import emit
from schemac.generated_files import SEED_DIR
from schemac.project import load_settings
from schemac.records import MIGRATIONS_DIR

QUOTE_BREAK = 'x"; DROP TABLE t; --'
LINE_BREAK = "y\nDROP TABLE t; --"
LITERAL_BREAK = "z'); DROP TABLE t; --"

SCHEMA_YAML = """\
schema: 'evil"; DROP SCHEMA public CASCADE; --'
comment: "'; DROP TABLE t; --"
tables:
  'x"; DROP TABLE t; --':
    columns:
      "z'); DROP TABLE t; --": {type: text, comment: "'); DROP TABLE t; --"}
    indexes:
      - {columns: [{column: "z'); DROP TABLE t; --"}]}
    policies:
      "y\\nDROP TABLE t; --": {command: select, using: "true"}
  "y\\nDROP TABLE t; --":
    columns:
      'x"; DROP TABLE t; --': {type: integer}
"""


def _tables(conn: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    return {(schema, name) for schema, name in rows}


ROLE_BREAK = "r$role$; DROP TABLE t; --"


def test_hostile_names_are_only_names(tmp_path: Path, empty_db: str) -> None:
    project = tmp_path / "project"
    (project / "schema").mkdir(parents=True)
    (project / "schemac.yaml").write_text("{}\n", encoding="utf-8")
    (project / "schema" / "01_evil.yaml").write_text(SCHEMA_YAML, encoding="utf-8")
    # A role is created in a DO block: a dollar quote in its name must not end the block.
    global_yaml = "roles:\n  'r$role$; DROP TABLE t; --': {}\n"
    (project / "schema" / "00_global.yaml").write_text(global_yaml, encoding="utf-8")
    try:
        _hostile_names_applied(project, empty_db)
    finally:
        with psycopg.connect(empty_db, autocommit=True) as conn:
            conn.execute('DROP ROLE IF EXISTS "r$role$; DROP TABLE t; --"')


def _hostile_names_applied(project: Path, empty_db: str) -> None:
    emit(compile_project(load_settings(project)))
    migrations = sorted((project / "generated" / MIGRATIONS_DIR).glob("V*.sql"))
    assert [m.name for m in migrations] == [
        "V001__create_evil___DROP_SCHEMA_public_CASCADE_____schema.sql"
    ]
    text = migrations[0].read_text(encoding="utf-8")
    # The line break of a name never ends a comment line: every line is a comment or SQL.
    assert '-- table evil"; DROP SCHEMA public CASCADE; --.y\\u000aDROP TABLE t; --' in text
    evil = 'evil"; DROP SCHEMA public CASCADE; --'
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.t (id integer)")
        conn.execute(text)
        assert _tables(conn) == {("public", "t"), (evil, QUOTE_BREAK), (evil, LINE_BREAK)}
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = %s", [ROLE_BREAK]
        ).fetchone() == (1,)
        columns = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            ['"evil""; DROP SCHEMA public CASCADE; --"."x""; DROP TABLE t; --"'],
        ).fetchall()
        assert columns == [(LITERAL_BREAK,)]
        policies = conn.execute("SELECT policyname FROM pg_policies").fetchall()
        assert policies == [(LINE_BREAK,)]
        comment = conn.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [evil],
        ).fetchone()
        assert comment == ("'; DROP TABLE t; --",)
    dump = schema_dump(empty_db)
    assert 'CREATE TABLE "evil""; DROP SCHEMA public CASCADE; --"."x""; DROP TABLE t; --" (' in dump
    assert "CREATE TABLE public.t (" in dump
    assert dump.count("CREATE TABLE ") == 3
    assert dump.count("CREATE INDEX ") == 1 and dump.count("CREATE POLICY ") == 1


def test_the_quoted_names_case_builds_what_it_declares(tmp_path: Path, empty_db: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(Path(__file__).parents[1] / "cases" / "quoted_names", project)
    emit(compile_project(load_settings(project)))
    generated = project / "generated"
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for path in sorted((generated / MIGRATIONS_DIR).glob("V*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        for path in sorted((generated / SEED_DIR).glob("R__*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        labels = conn.execute(
            "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s::regtype ORDER BY enumsortorder",
            ['"My Schema"."Mood ""Type"""'],
        ).fetchall()
        assert labels == [("happy",), ('it\'s "fine"',), ("Ünïcode",)]
        policies = conn.execute("SELECT schemaname, tablename, policyname FROM pg_policies")
        assert policies.fetchall() == [("My Schema", "UserProfiles", "Allow logged-in read access")]
        row = conn.execute(
            'SELECT "Prénom", "x""; DROP TABLE t; --" FROM "My Schema"."UserProfiles"'
        ).fetchall()
        assert row == [("Zoë", "'); DROP TABLE t; --")]
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'Touch It'").fetchone()
        assert body == (
            '\nBEGIN\n    NEW."Prénom" := btrim(NEW."Prénom");\n    RETURN NEW;\nEND;\n',
        )
        assert _tables(conn) >= {("My Schema", "Two\nLines\nDROP TABLE t; --"), ("app", "notes")}
