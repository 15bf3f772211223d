"""The shadow PostgreSQL: embedded servers come and go without leftovers; databases on any server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

import schemac
from schemac import cluster, shadow
from schemac.errors import EnvironmentFailure
from schemac.shadow import PostgresServer, ensure_template, redact, scratch_database

# -- helpers ---------------------------------------------------------------------------------


def postmaster_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_python(code: str) -> subprocess.Popen[str]:
    """Run ``code`` in a new Python process that imports this checkout's schemac."""
    source_root = str(Path(schemac.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source_root, *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def database_names(server: PostgresServer) -> set[str]:
    return {
        row[0]
        for row in server.fetch(server.maintenance_database, "SELECT datname FROM pg_database")
    }


# -- the embedded server's life cycle ----------------------------------------------------------


def test_embedded_server_listens_on_tcp_with_durability_off() -> None:
    with PostgresServer.embedded() as server:
        url = server.url("postgres")
        assert url.startswith("postgresql://postgres:")
        assert "@127.0.0.1:" in url
        with psycopg.connect(url) as connection:
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync', 'synchronous_commit', 'full_page_writes', 'jit', 'server_encoding')"
                ).fetchall()
            )
            superuser = connection.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        assert settings == {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "jit": "off",
            "server_encoding": "UTF8",
        }
        assert superuser == (True,)
        assert server.version >= 180000


def test_embedded_server_refuses_a_connection_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Any local user can reach 127.0.0.1: the shadow server must not trust them."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    with PostgresServer.embedded() as server:
        url = server.url("postgres")
        password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert len(password) >= 24
        port = url.split("@127.0.0.1:", 1)[1].split("/", 1)[0]
        for attempt in (
            f"postgresql://postgres@127.0.0.1:{port}/postgres",
            f"postgresql://postgres:wrong@127.0.0.1:{port}/postgres",
        ):
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(attempt, connect_timeout=5).close()
        data_directory = server.data_directory
        assert data_directory is not None
        assert not list(data_directory.glob("*password*"))  # the file initdb read is gone
        assert server.is_embedded


def test_embedded_server_leaves_nothing_after_normal_exit() -> None:
    with PostgresServer.embedded() as server:
        pid, directory = server.postmaster_pid, server.data_directory
        assert pid is not None and directory is not None
        assert postmaster_running(pid)
        assert (directory / "data" / "PG_VERSION").exists()
    assert not postmaster_running(pid)
    assert not directory.exists()


def test_embedded_server_leaves_nothing_after_an_exception_in_the_block() -> None:
    with pytest.raises(RuntimeError, match="boom"), PostgresServer.embedded() as server:
        pid, directory = server.postmaster_pid, server.data_directory
        assert pid is not None and directory is not None
        server.execute("postgres", "CREATE TABLE kept_busy (id int)")
        raise RuntimeError("boom")
    assert not postmaster_running(pid)
    assert not directory.exists()


def test_ctrl_c_propagates_and_the_block_cleans_up() -> None:
    # Checked inside the interrupted process, before it exits: the with-block itself must
    # clean up, not only the guardian once the process is gone.
    child = run_python(
        """
        import os, signal, time
        import psutil
        from schemac.shadow import PostgresServer
        # A test run started in the background of a shell inherits SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with PostgresServer.embedded() as server:
                pid, directory = server.postmaster_pid, server.data_directory
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(30)
        except KeyboardInterrupt:
            running = psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
            print("interrupted", running, directory.exists(), flush=True)
        """
    )
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert stdout.split() == ["interrupted", "False", "False"]


def test_a_killed_owner_leaves_nothing_behind() -> None:
    # SIGKILL runs no Python code at all: only the guardian process can clean up.
    child = run_python(
        """
        import time
        from schemac.shadow import PostgresServer
        server = PostgresServer.embedded()
        print(server.postmaster_pid, server.data_directory, flush=True)
        time.sleep(60)
        """
    )
    assert child.stdout is not None
    pid, directory = child.stdout.readline().split()
    assert postmaster_running(int(pid))
    child.kill()
    child.communicate(timeout=10)
    assert wait_for(lambda: not postmaster_running(int(pid))), "postmaster outlived its owner"
    assert wait_for(lambda: not Path(directory).exists()), "data directory outlived its owner"


def test_startup_failure_reports_the_server_log(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        created.append(real_mkdtemp(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        # Every port the server is offered is taken, so it fails to start the real way.
        monkeypatch.setattr(cluster, "free_tcp_port", lambda: occupied.getsockname()[1])
        with pytest.raises(EnvironmentFailure) as failure:
            PostgresServer.embedded()
    assert failure.value.exit_code == 3
    assert "did not start" in str(failure.value)
    assert "could not bind" in str(failure.value)  # the log's tail, not just "it failed"
    assert created and not any(Path(directory).exists() for directory in created)


# -- external servers and URLs -----------------------------------------------------------------


def test_unreachable_external_server_is_an_environment_failure() -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{unused_port()}/postgres"
    with pytest.raises(EnvironmentFailure) as failure:
        PostgresServer.external(url)
    assert failure.value.exit_code == 3
    assert "127.0.0.1" in str(failure.value)
    assert "s3cret" not in str(failure.value)


def test_open_shadow_uses_the_dev_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        shadow.DEV_URL_ENV, f"postgresql://postgres@127.0.0.1:{unused_port()}/postgres"
    )
    with pytest.raises(EnvironmentFailure), shadow.open_shadow(None):
        pass


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://alice:s3cret@db:5432/app", "postgresql://alice:***@db:5432/app"),
        (
            "postgresql://alice@db/app?password=s3cret&sslmode=require",
            "postgresql://alice@db/app?password=***&sslmode=require",
        ),
        (
            "host=db user=alice password='s 3cret' dbname=app",
            "host=db user=alice password=*** dbname=app",
        ),
        ("postgresql://alice@db/app", "postgresql://alice@db/app"),
        ("postgresql://alice:p@ss@db/app", "postgresql://alice:***@db/app"),
    ],
)
def test_redact_masks_passwords(url: str, expected: str) -> None:
    assert redact(url) == expected


def test_url_names_the_requested_database_and_keeps_the_rest() -> None:
    server = PostgresServer("postgresql://alice:p%40ss@db.example:6543/maint?sslmode=require")
    assert server.maintenance_database == "maint"
    assert (
        server.url("other db")
        == "postgresql://alice:p%40ss@db.example:6543/other%20db?sslmode=require"
    )
    assert (
        server.jdbc_url("app") == "jdbc:postgresql://db.example:6543/app?user=alice&password=p%40ss"
    )
    on_socket = PostgresServer("host=/run/postgresql port=5433 user=bob dbname=postgres")
    assert psycopg.conninfo.conninfo_to_dict(on_socket.url("app")) == {
        "host": "/run/postgresql",
        "port": "5433",
        "user": "bob",
        "dbname": "app",
    }


# -- databases on the session's server (embedded, or $SCHEMAC_TEST_PG_URL) ---------------------


def test_create_and_drop_a_scratch_database(pg_server: PostgresServer) -> None:
    name = pg_server.create_database()
    assert name.startswith("schemac_scratch_")
    assert name in database_names(pg_server)
    connection = psycopg.connect(pg_server.url(name), autocommit=True)
    try:
        assert connection.execute("SELECT current_database()").fetchone() == (name,)
        pg_server.drop_database(name)  # WITH (FORCE): an open session does not stop it
    finally:
        connection.close()
    assert name not in database_names(pg_server)


def test_scratch_database_is_dropped_even_when_the_block_fails(pg_server: PostgresServer) -> None:
    with pytest.raises(ValueError), scratch_database(pg_server) as url:
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        assert name in database_names(pg_server)
        raise ValueError
    assert name not in database_names(pg_server)


def test_clone_from_template_copies_schema_and_rows(pg_server: PostgresServer) -> None:
    template = pg_server.create_database()
    try:
        pg_server.execute(
            template,
            "CREATE TABLE badge (name text PRIMARY KEY); INSERT INTO badge VALUES ('gold'), ('silver');",
        )
        with scratch_database(pg_server, template=template) as clone_url:
            with psycopg.connect(clone_url, autocommit=True) as clone:
                assert clone.execute("SELECT name FROM badge ORDER BY name").fetchall() == [
                    ("gold",),
                    ("silver",),
                ]
                clone.execute("INSERT INTO badge VALUES ('bronze')")
            # A clone is independent: writing to it leaves the template as it was.
            assert pg_server.fetch(template, "SELECT count(*) FROM badge") == [(2,)]
    finally:
        pg_server.drop_database(template)


def requested_checkpoints(server: PostgresServer) -> int:
    view, column = (
        ("pg_stat_checkpointer", "num_requested")
        if server.version >= 170000
        else ("pg_stat_bgwriter", "checkpoints_req")
    )
    return int(server.fetch(server.maintenance_database, f"SELECT {column} FROM {view}")[0][0])


@pytest.mark.parametrize("copies_files", [True, False])
def test_clones_copy_files_only_when_the_server_is_schemacs(
    pg_server: PostgresServer, copies_files: bool
) -> None:
    """FILE_COPY requests a checkpoint; the default WAL_LOG does not (a user's server)."""
    if pg_server.version < 150000:
        pytest.skip("CREATE DATABASE ... STRATEGY needs PostgreSQL 15")
    template = pg_server.create_database()
    saved = pg_server.copies_files
    try:
        pg_server.copies_files = copies_files
        before = requested_checkpoints(pg_server)
        clone = pg_server.create_database(template=template)
        requested = wait_for(lambda: requested_checkpoints(pg_server) > before, 3)
        pg_server.drop_database(clone)  # (DROP DATABASE requests one too)
        assert requested is copies_files
    finally:
        pg_server.copies_files = saved
        pg_server.drop_database(template)


def test_schemacs_own_servers_copy_files() -> None:
    with PostgresServer.embedded() as server:
        assert server.copies_files
    assert not PostgresServer("postgresql://127.0.0.1/x").copies_files


def test_ensure_template_builds_once_and_clones_see_it(pg_server: PostgresServer) -> None:
    key = f"test_{os.getpid()}_{time.monotonic_ns()}"
    built: list[str] = []

    def build(url: str) -> None:
        built.append(url)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE level (n int); INSERT INTO level VALUES (1), (2), (3)")

    name = ensure_template(pg_server, key, build)
    try:
        assert name == f"schemac_tpl_{key}"
        assert ensure_template(pg_server, key, build) == name
        assert len(built) == 1
        with scratch_database(pg_server, template=name) as url, psycopg.connect(url) as connection:
            assert connection.execute("SELECT sum(n) FROM level").fetchone() == (6,)
    finally:
        pg_server.drop_database(name)


def test_a_failed_template_build_leaves_no_database(pg_server: PostgresServer) -> None:
    before = database_names(pg_server)

    def build(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE half_built (n int)")
        raise RuntimeError("build broke")

    with pytest.raises(RuntimeError, match="build broke"):
        ensure_template(pg_server, f"broken_{os.getpid()}", build)
    assert database_names(pg_server) == before


def test_unusable_database_names_are_refused(pg_server: PostgresServer) -> None:
    with pytest.raises(ValueError):
        pg_server.create_database("x" * 64)  # PostgreSQL would silently truncate it


def test_sql_errors_reach_the_caller_as_psycopg_errors(
    empty_db: str, pg_server: PostgresServer
) -> None:
    name = psycopg.conninfo.conninfo_to_dict(empty_db)["dbname"]
    with pytest.raises(psycopg.errors.UndefinedTable):
        pg_server.execute(name, "SELECT * FROM no_such_table")


def test_sigterm_of_the_owner_leaves_nothing_behind() -> None:
    child = run_python(
        """
        import time
        from schemac.shadow import PostgresServer
        with PostgresServer.embedded() as server:
            print(server.postmaster_pid, server.data_directory, flush=True)
            time.sleep(60)
        """
    )
    assert child.stdout is not None
    pid, directory = child.stdout.readline().split()
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=10)
    assert wait_for(lambda: not postmaster_running(int(pid)))
    assert wait_for(lambda: not Path(directory).exists())
