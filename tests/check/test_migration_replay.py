"""A non-transactional migration runs statement by statement as PostgreSQL's parser splits it."""

from __future__ import annotations

import pytest

from schemac.drift import MigrationFailed, connect, run_script

# Semicolons inside a dollar-quoted body, a BEGIN ATOMIC body, a string and a comment.
SCRIPT = """\
-- a comment; with a semicolon
CREATE TABLE t (a int, b text DEFAULT ';');
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
BEGIN
  RETURN 1; -- ;
END
$body$;
CREATE FUNCTION g() RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT 1;
  SELECT 2;
END;
CREATE INDEX CONCURRENTLY t_a ON t (a);
"""


def test_a_non_transactional_script_runs_statement_by_statement(empty_db: str) -> None:
    with connect(empty_db) as conn:
        run_script(conn, "V2__x.sql", SCRIPT, transactional=False)
        assert conn.execute("SELECT f() + g()").fetchone() == (3,)
        found = conn.execute("SELECT count(*) FROM pg_catalog.pg_indexes WHERE indexname = 't_a'")
        assert found.fetchone() == (1,)


@pytest.mark.parametrize(
    ("script", "where"),
    [
        # PostgreSQL rejects the fourth line's statement when it runs
        ("CREATE TABLE t (a int);\n\n\nCREATE INDEX CONCURRENTLY i ON missing (a);\n", "line 4"),
        # the parser rejects the script before anything runs
        ("CREATE TABLE t (a int);\nCREATE TABLE;\n", "line 2"),
    ],
)
def test_a_failing_statement_is_named_by_file_and_line(
    empty_db: str, script: str, where: str
) -> None:
    with connect(empty_db) as conn, pytest.raises(MigrationFailed) as failure:
        run_script(conn, "V3__x.sql", script, transactional=False)
    assert str(failure.value).startswith(f"migrations/V3__x.sql, {where}: ")
