"""The online plan's lock behaviour, for real, on a table holding rows.

Three sessions, as on a busy production database: a long transaction reading the table, the
migration Flyway applies, and the application's INSERT. Every wait is bounded (threads joined
with a timeout, statement_timeout on each session), so the test cannot hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from diff.support import Project, flyway_migrate, ok
from schemac.drift import run_script
from schemac.errors import SchemacError

GUARD = "30s"  # no session of these tests waits longer than this, whatever happens


@contextmanager
def session(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET statement_timeout = '{GUARD}'")
        yield conn


def _migrated_with_rows(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated, seeds=False)
    with session(database) as conn:
        conn.execute(
            "INSERT INTO school.courses (title, price) "
            "SELECT 'course ' || g, g FROM generate_series(1, 20000) g"
        )


def _apply_in_thread(database: str, name: str, text: str, transactional: bool) -> dict[str, object]:
    """Apply one migration file as Flyway does, in a thread; its outcome lands in the dict."""
    outcome: dict[str, object] = {}

    def apply() -> None:
        started = time.monotonic()
        try:
            with psycopg.connect(database, autocommit=True) as conn:
                outcome["pid"] = conn.info.backend_pid
                conn.execute(f"SET statement_timeout = '{GUARD}'")
                run_script(conn, name, text, transactional)
            outcome["error"] = None
        except (SchemacError, psycopg.Error) as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=apply, daemon=True)
    outcome["thread"] = thread
    thread.start()
    return outcome


def _wait_until(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_concurrent_index_does_not_block_writes_while_a_long_read_is_open(
    project: Project, database: str
) -> None:
    _migrated_with_rows(project, database)
    project.edit(
        "      - {columns: [level, created_at desc]}\n",
        "      - {columns: [level, created_at desc]}\n      - {columns: [price]}\n",
    )
    ok(project.diff("index course prices"))
    (name,) = [n for n in project.migrations() if "_index_courses_price_idx" in n]
    text = project.read(f"generated/migrations/{name}")
    assert (project.generated / "migrations" / f"{name}.conf").is_file()
    with session(database) as reader, session(database) as writer, session(database) as watcher:
        # The long transaction: a report reading the table, its snapshot held open.
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT count(*) FROM school.courses").fetchone()
        applying = _apply_in_thread(database, name, text, transactional=False)
        # CREATE INDEX CONCURRENTLY builds, then waits for the reader's snapshot to end.
        waiting = _wait_until(
            lambda: (
                watcher.execute(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                    (applying.get("pid"),),
                ).fetchone()
                == (True,)
            ),
            20,
        )
        assert waiting, "the index build never waited for the open transaction"
        assert applying["thread"].is_alive()  # type: ignore[attr-defined]
        # Meanwhile the application writes: its INSERT must not wait for the index build.
        writer.execute("SET lock_timeout = '2s'")
        started = time.monotonic()
        writer.execute("INSERT INTO school.courses (title, price) VALUES ('during the build', 1)")
        assert time.monotonic() - started < 2
        assert applying["thread"].is_alive()  # type: ignore[attr-defined]  # still building
        reader.execute("COMMIT")
        applying["thread"].join(timeout=25)  # type: ignore[attr-defined]
        assert applying["error"] is None, applying["error"]
        valid = watcher.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'school.courses_price_idx'::regclass"
        ).fetchone()
        assert valid == (True,)


def test_lock_timeout_makes_a_blocked_alter_fail_fast(project: Project, database: str) -> None:
    project.write("schemac.yaml", "version_width: 3\nmigrations: {lock_timeout: 2s}\n")
    _migrated_with_rows(project, database)
    project.edit(
        '      code: {type: "varchar(20)"}\n',
        '      code: {type: "varchar(20)"}\n      summary: {type: text}\n',
    )
    ok(project.diff("course summaries"))
    (name,) = [n for n in project.migrations() if n.endswith("__course_summaries.sql")]
    text = project.read(f"generated/migrations/{name}")
    assert "SET LOCAL lock_timeout = '2s';" in text
    with session(database) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM school.courses").fetchone()  # ACCESS SHARE, held
        applying = _apply_in_thread(database, name, text, transactional=True)
        applying["thread"].join(timeout=25)  # type: ignore[attr-defined]
        reader.execute("ROLLBACK")
    assert "seconds" in applying, "the migration was still waiting after 25 s"
    error = applying["error"]
    assert error is not None and "lock timeout" in str(error), error
    assert 1.5 <= float(applying["seconds"]) < 10  # type: ignore[arg-type]
    # Nothing of the file stayed: Flyway can simply run it again.
    with session(database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = 'school' AND table_name = 'courses' AND column_name = 'summary'"
        ).fetchone() == (0,)
        run_script(conn, name, text, True)  # and it does, once the reader is gone


def test_set_not_null_is_proven_by_the_validated_check(project: Project, database: str) -> None:
    """PostgreSQL 12+ skips the scan of SET NOT NULL when a valid CHECK (c IS NOT NULL) proves
    it, and says so at DEBUG1: the not-null file must get that message."""
    _migrated_with_rows(project, database)
    project.edit(
        '      price: {type: "numeric(8,2)"}\n',
        '      price: {type: "numeric(8,2)", not_null: true}\n',
    )
    ok(project.diff("prices required"))
    files = [n for n in project.migrations() if "__prices_required" in n]
    assert [f.split("__", 1)[1] for f in files] == [
        "prices_required.sql",
        "prices_required_validate.sql",
        "prices_required_not_null.sql",
    ]
    notices: list[str] = []
    with session(database) as conn:
        conn.add_notice_handler(lambda diagnostic: notices.append(str(diagnostic.message_primary)))
        for name in files[:2]:
            run_script(conn, name, project.read(f"generated/migrations/{name}"), True)
        conn.execute("SET client_min_messages = debug1")
        run_script(conn, files[2], project.read(f"generated/migrations/{files[2]}"), True)
    assert any("sufficient to prove" in n for n in notices), notices
