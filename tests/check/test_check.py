"""`schemac check`: offline consistency, migrations against the YAML, live databases, formats."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from diff.support import Project, flyway_migrate, ok, run_schemac
from schemac.shadow import PostgresServer

V001 = "generated/migrations/V001__create_school_schema.sql"


def test_fresh_project_passes_in_every_format(project: Project) -> None:
    text = ok(project.check())
    assert "schemac check: ok" in text.stdout
    assert "migrations replayed on a shadow database" in text.stdout
    report = json.loads(ok(project.check("--format", "json")).stdout)
    assert report["ok"] is True and report["exit_code"] == 0 and report["findings"] == []
    github = ok(project.check("--offline", "--format", "github"))
    assert "::error" not in github.stdout


# -- offline: generated/ and the integrity record --------------------------------------------------


def test_edited_migration_is_detected(project: Project) -> None:
    path = project.root / V001
    path.write_text(
        path.read_text(encoding="utf-8").replace("CREATE TABLE", "CREATE  TABLE", 1),
        encoding="utf-8",
    )
    result = ok(project.check("--offline"), 1)
    assert f"{V001}:1: error: was edited after schemac wrote it" in result.stdout
    github = ok(project.check("--offline", "--format", "github"), 1)
    assert (
        f"::error file={V001},line=1,title=schemac check%3A integrity::was edited" in github.stdout
    )


def test_conf_added_to_a_recorded_migration_is_detected(project: Project) -> None:
    # A .sql.conf changes how Flyway runs the file (in a transaction or not): it is recorded too.
    (project.root / f"{V001}.conf").write_text("executeInTransaction=false\n", encoding="utf-8")
    result = ok(project.check("--offline"), 1)
    assert f"{V001}.conf:1: error: was added, edited or deleted" in result.stdout


@pytest.mark.parametrize("case", ["renumbered", "renamed", "deleted", "unrecorded"])
def test_moved_deleted_or_unrecorded_migrations_are_detected(project: Project, case: str) -> None:
    folder = project.generated / "migrations"
    original = folder / "V001__create_school_schema.sql"
    if case == "renumbered":
        original.rename(folder / "V1_1__create_school_schema.sql")
        expected = (
            "V1_1__create_school_schema.sql:1: error: is V001__create_school_schema.sql renumbered"
        )
    elif case == "renamed":
        original.rename(folder / "V001__school.sql")
        expected = "V001__school.sql:1: error: is V001__create_school_schema.sql renamed"
    elif case == "deleted":
        original.unlink()
        expected = f"{V001}:1: error: was deleted"
    else:
        (folder / "V002__by_hand.sql").write_text(
            "CREATE TABLE school.notes (id int);\n", encoding="utf-8"
        )
        expected = "V002__by_hand.sql:1: error: is not recorded in integrity.json"
    result = ok(project.check("--offline"), 1)
    assert expected in result.stdout


def test_yaml_changed_without_a_migration(project: Project) -> None:
    project.edit(
        '      code: {type: "varchar(20)"}\n',
        '      code: {type: "varchar(20)"}\n      subtitle: {type: text}\n',
    )
    offline = ok(project.check("--offline"), 1)
    assert "the YAML changed since the last migration was written" in offline.stdout
    assert 'hint: run `schemac diff -m "<what changed>"`' in offline.stdout
    assert "generated/desired-state.sql:1: error: out of date" in offline.stdout
    shadow = ok(project.check("--format", "json"), 1)
    drift = {
        f["message"]: f for f in json.loads(shadow.stdout)["findings"] if f["category"] == "drift"
    }
    courses = next(f for message, f in drift.items() if ": table school.courses: " in message)
    assert 'alter table "school"."courses" add column "subtitle" text;' in courses["message"]
    line = next(
        n
        for n, text in enumerate(project.read("schema/01_school.yaml").splitlines(), 1)
        if text.strip() == "courses:"
    )
    assert (courses["file"], courses["line"]) == ("schema/01_school.yaml", line)
    assert courses["hint"].startswith("run `schemac diff")


def test_invalid_yaml_exits_2_with_the_location(project: Project) -> None:
    project.edit(
        "references: {table: courses, on_delete: cascade}",
        "references: {table: coursez, on_delete: cascade}",
    )
    result = ok(project.check("--offline", "--format", "github"), 2)
    assert "::error file=schema/01_school.yaml,line=" in result.stdout
    assert "coursez" in result.stdout


# -- a live database ------------------------------------------------------------------------------


def test_live_database_matches(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    result = ok(project.check("--db", database))
    assert "database postgresql://" in result.stdout


def test_live_drift_is_reported_object_by_object(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ALTER TABLE school.lessons ADD COLUMN notes text")
        conn.execute("COMMENT ON TABLE school.courses IS 'changed by hand'")
        conn.execute("REVOKE DELETE ON school.lessons FROM school_app")
        conn.execute("DROP INDEX school.courses_level_created_at_idx")
    result = ok(project.check("--db", database, "--format", "json"), 1)
    findings = {
        f["message"].split(" differs from the YAML: ", 1)[1]: f
        for f in json.loads(result.stdout)["findings"]
    }
    by_object = {message.split(": ", 1)[0]: message for message in findings}
    assert (
        'alter table "school"."lessons" drop column "notes";' in by_object["table school.lessons"]
    )
    assert (
        "CREATE INDEX courses_level_created_at_idx"
        in by_object["index school.courses_level_created_at_idx"]
    )
    assert by_object["table school.courses"].endswith(
        "comment is 'changed by hand', the YAML says 'A course.'"
    )
    assert by_object["table school.lessons"].endswith("privileges: missing DELETE to school_app")
    # Each finding points at the YAML that declares the object.
    line = next(
        n
        for n, text in enumerate(project.read("schema/01_school.yaml").splitlines(), 1)
        if text.strip() == "lessons:"
    )
    assert findings[by_object["table school.lessons"]]["line"] == line


def test_flyway_history_pending_failed_unknown_and_changed(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    project.edit("comment: A course.", "comment: One course.")
    ok(project.diff("course comment"))
    result = ok(project.check("--db", database), 1)
    assert "V002__course_comment.sql is pending (not applied yet)" in result.stdout
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE flyway_schema_history SET checksum = 42 WHERE version = '001'")
        conn.execute(
            "INSERT INTO flyway_schema_history VALUES (10, '7', 'gone', 'SQL', 'V7__gone.sql', 1, "
            "'x', now(), 0, true), (11, '8', 'broken', 'SQL', 'V8__broken.sql', 1, 'x', now(), 0, false)"
        )
    result = ok(project.check("--db", database), 1)
    assert (
        "V001__create_school_schema.sql was changed after it was applied (checksum 42"
        in result.stdout
    )
    assert "applied migration V7__gone.sql (version 7) is unknown" in result.stdout
    assert "migration V8__broken.sql failed" in result.stdout


@pytest.fixture
def catalog_reader(pg_server: PostgresServer, database: str) -> Iterator[str]:
    """A login role with nothing but CONNECT on the database (and the catalog everyone may read)."""
    name = f"reader_{secrets.token_hex(4)}"
    with pg_server.connect() as conn:
        conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD 'hunter2'")
    dbname = database.rsplit("/", 1)[1]
    try:
        yield f"postgresql://{name}:hunter2@{database.split('@', 1)[1].rsplit('/', 1)[0]}/{dbname}"
    finally:
        with pg_server.connect() as conn:
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')


def test_read_only_check_with_a_role_that_can_only_connect(
    project: Project, database: str, catalog_reader: str
) -> None:
    flyway_migrate(database, project.generated)
    result = ok(project.check("--db", catalog_reader))
    assert "hunter2" not in result.stdout + result.stderr
    assert "cannot read flyway_schema_history (permission denied)" in result.stdout
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ALTER TABLE school.courses ALTER COLUMN title DROP NOT NULL")
    result = ok(project.check("--db", catalog_reader), 1)
    assert 'alter table "school"."courses" alter column "title" set not null;' in result.stdout


def test_unreachable_database_exits_3_without_the_password(project: Project) -> None:
    result = project.check(
        "--db", "postgresql://app:topsecret@127.0.0.1:1/nowhere", "--format", "json"
    )
    ok(result, 3)
    assert "topsecret" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["findings"][0]["category"] == "environment"
    assert "app:***@127.0.0.1:1" in report["findings"][0]["message"]


def test_missing_integrity_file(project: Project) -> None:
    (project.generated / "integrity.json").unlink()
    result = ok(project.check("--offline"), 1)
    assert "integrity.json is missing" in result.stdout


def test_check_outside_a_project(tmp_path: Path) -> None:
    result = ok(run_schemac("check", "--offline", cwd=tmp_path), 2)
    assert "no schemac.yaml found" in result.stderr


def test_migration_that_fails_to_replay_points_at_its_line(project: Project) -> None:
    (project.generated / "migrations" / "V002__broken.sql").write_text(
        "-- written by hand\nCREATE TABLE school.notes (\n    id no_such_type\n);\n",
        encoding="utf-8",
    )
    result = ok(project.check(), 1)
    assert (
        "generated/migrations/V002__broken.sql:1: error: is not recorded in integrity.json"
        in result.stdout
    )
    assert (
        "generated/migrations/V002__broken.sql:3: error: migrations/V002__broken.sql, line 3: "
        'type "no_such_type" does not exist'
    ) in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://checker:p%zzword@127.0.0.1/app",  # libpq quotes the bad token
        "postgresql://checker:s3cret@[::1/app",  # not even a URL Python can split
        "postgresql://checker:sec ret@127.0.0.1/app",
    ],
)
def test_malformed_urls_never_print_the_password(project: Project, url: str) -> None:
    result = ok(project.check("--db", url), 3)
    said = result.stdout + result.stderr
    assert "not a valid PostgreSQL connection URL" in said
    for secret in ("zzword", "s3cret", "sec ret"):
        assert secret not in said
    assert "Traceback" not in said


def test_read_only_option_joins_the_options_a_url_already_has() -> None:
    from schemac.drift import _read_only_url

    url = _read_only_url("postgresql+psycopg://c@127.0.0.1/app?options=-c%20search_path%3Dpublic")
    options = psycopg.conninfo.conninfo_to_dict(url.replace("+psycopg", ""))["options"]
    assert options == "-c search_path=public -c default_transaction_read_only=on"
