"""Statements read on a newer shadow server, as the target PostgreSQL version runs them."""

from __future__ import annotations

import pytest

from schemac.target import TargetVersionRefused, adapt_statements

NOT_NULL = {("app", "users", "users_email_not_null"): "email"}

REWRITTEN = [
    # (target, statement written on 18, what the target gets; None = left out)
    (
        15,
        "GRANT SELECT, MAINTAIN ON TABLE app.users TO reader;",
        "GRANT SELECT ON TABLE app.users TO reader;",
    ),
    (
        16,
        'GRANT MAINTAIN, UPDATE ON TABLE "app"."users" TO "w";',
        "GRANT UPDATE ON TABLE app.users TO w;",
    ),
    (15, "GRANT MAINTAIN ON TABLE app.users TO reader;", None),
    (15, "REVOKE MAINTAIN ON TABLE app.users FROM reader;", None),
    (
        15,
        "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT MAINTAIN, SELECT ON TABLES TO reader;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO reader;",
    ),
    (
        17,
        "GRANT SELECT, MAINTAIN ON TABLE app.users TO reader;",
        "GRANT SELECT, MAINTAIN ON TABLE app.users TO reader;",
    ),
    (15, "GRANT ALL ON TABLE app.users TO reader;", "GRANT ALL ON TABLE app.users TO reader;"),
    (
        15,
        'ALTER TABLE app.users RENAME CONSTRAINT "people_email_not_null" TO "users_email_not_null";',
        None,
    ),
    (
        15,
        "ALTER TABLE app.users RENAME CONSTRAINT users_pkey_old TO users_pkey;",
        "ALTER TABLE app.users RENAME CONSTRAINT users_pkey_old TO users_pkey;",
    ),
    (
        15,
        "ALTER TABLE app.users ADD CONSTRAINT users_email_not_null NOT NULL email;",
        "ALTER TABLE app.users ALTER COLUMN email SET NOT NULL;",
    ),
    (
        15,
        "ALTER TABLE app.users DROP CONSTRAINT users_email_not_null;",
        "ALTER TABLE app.users ALTER COLUMN email DROP NOT NULL;",
    ),
    (
        18,
        "ALTER TABLE app.users RENAME CONSTRAINT people_email_not_null TO users_email_not_null;",
        "ALTER TABLE app.users RENAME CONSTRAINT people_email_not_null TO users_email_not_null;",
    ),
    # Around a rewritten statement, the text (a comment schemac reads back) stays as it was.
    (
        15,
        "-- role reader\nGRANT SELECT, MAINTAIN ON TABLE app.users TO reader;\nCOMMENT ON ROLE reader IS 'é';",
        "-- role reader\nGRANT SELECT ON TABLE app.users TO reader;\nCOMMENT ON ROLE reader IS 'é';",
    ),
    (
        15,
        "GRANT MAINTAIN ON TABLE app.users TO reader;\nGRANT SELECT ON TABLE app.users TO reader;",
        "GRANT SELECT ON TABLE app.users TO reader;",
    ),
    (15, "-- only MAINTAIN here\nGRANT MAINTAIN ON TABLE app.users TO reader;", None),
]


@pytest.mark.parametrize(("target", "statement", "expected"), REWRITTEN)
def test_statements_the_target_can_say_are_rewritten(
    target: int, statement: str, expected: str | None
) -> None:
    adapted = adapt_statements([statement], target, server=18, not_null_names=NOT_NULL)
    assert adapted == ([] if expected is None else [expected])


REFUSED = [
    # (target, statement, words the refusal must contain)
    (
        16,
        "ALTER TABLE app.t ALTER COLUMN total SET EXPRESSION AS (a + b);",
        "SET EXPRESSION needs PostgreSQL 17",
    ),
    (
        15,
        "ALTER TABLE app.t ADD COLUMN total int GENERATED ALWAYS AS (a + b) VIRTUAL;",
        "virtual generated column",
    ),
    (
        17,
        "CREATE TABLE app.t (a int, total int GENERATED ALWAYS AS (a * 2));",
        "virtual generated column",
    ),
    (16, "GRANT pg_maintain TO reader;", "pg_maintain exists from PostgreSQL 17"),
    (15, "GRANT pg_create_subscription TO reader;", "from PostgreSQL 16"),
    (15, "ALTER TABLE app.t ALTER COLUMN (", "parser rejects it"),
]


@pytest.mark.parametrize(("target", "statement", "words"), REFUSED)
def test_statements_the_target_cannot_say_are_refused_by_name(
    target: int, statement: str, words: str
) -> None:
    with pytest.raises(TargetVersionRefused) as refused:
        adapt_statements(["SELECT 1;", statement], target, server=18)
    message = str(refused.value)
    assert words in message
    assert statement.split(" (")[0].rstrip(";") in message  # the statement is named
    assert f"apt-get install postgresql-{target}" in message
    assert refused.value.exit_code == 2


ACCEPTED_AS_IS = [
    (17, "ALTER TABLE app.t ALTER COLUMN total SET EXPRESSION AS (a + b);"),
    (18, "ALTER TABLE app.t ADD COLUMN total int GENERATED ALWAYS AS (a + b) VIRTUAL;"),
    (15, "ALTER TABLE app.t ADD COLUMN total int GENERATED ALWAYS AS (a + b) STORED;"),
    (15, "GRANT pg_read_all_data TO reader;"),
]


@pytest.mark.parametrize(("target", "statement"), ACCEPTED_AS_IS)
def test_what_the_target_has_passes_unchanged(target: int, statement: str) -> None:
    assert adapt_statements([statement], target, server=18) == [statement]


def test_nothing_changes_when_the_server_is_not_newer_than_the_target() -> None:
    statements = ["GRANT MAINTAIN ON TABLE app.users TO reader;", "ALTER TABLE ("]
    assert adapt_statements(statements, 17, server=17) == statements
    assert adapt_statements(statements, 18, server=15) == statements


def test_every_refusal_is_listed_at_once() -> None:
    with pytest.raises(TargetVersionRefused) as refused:
        adapt_statements(
            [
                "ALTER TABLE app.t ALTER COLUMN a SET EXPRESSION AS (1);",
                "ALTER TABLE app.u ALTER COLUMN b SET EXPRESSION AS (2);",
            ],
            15,
            server=18,
        )
    assert "app.t" in str(refused.value) and "app.u" in str(refused.value)
