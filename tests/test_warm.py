"""The project's warm shadow server: kept between commands, replaced when stale, never shared."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from diff import support
from schemac.cluster import process_alive
from schemac.memory_folder import ON_DISK_ENV, memory_folder
from schemac.project import load_settings
from schemac.service_account import ServiceAccount
from schemac.shadow import PostgresServer
from schemac.warm import IDLE_SECONDS_ENV, open_warm, state_folder, stop_warm, warm_status

baseline = support.baseline  # the school project of the diff tests, compiled once a session
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
needs_pg15 = pytest.mark.skipif(
    not (PG15_BIN / "postgres").is_file(), reason="PostgreSQL 15 is not installed (postgresql-15)"
)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def new_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "schemac.yaml").write_text("version_width: 3\n", encoding="utf-8")
    return folder


@pytest.fixture
def projects(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Makes project folders; every warm server they started is stopped afterwards."""
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(new_project(tmp_path / name))
        return made[-1]

    yield make
    for root in made:
        stop_warm(root)


def server_of(root: Path, major: int | None = None) -> tuple[int, int, str]:
    """(postmaster pid, port, version()) of the project's warm server, given back at once."""
    with open_warm(root, major) as server:
        pid = json.loads((state_folder(root) / "server.json").read_text())["pid"]
        port = int(psycopg.conninfo.conninfo_to_dict(server.url("postgres"))["port"])
        version = str(server.fetch("postgres", "SELECT version()")[0][0])
    return int(pid), port, version


def test_the_server_stays_up_between_commands_and_keeps_its_databases(
    projects: Callable[[str], Path],
) -> None:
    root = projects("p")
    with open_warm(root, None) as server:
        assert "warm, just started" in server.describe()
        server.create_database("kept_between_runs")
    with open_warm(root, None) as again:
        assert "warm, up" in again.describe()
        assert again.database_exists("kept_between_runs")
    state = state_folder(root) / "server.json"
    assert state.stat().st_mode & 0o077 == 0  # the password is the user's alone
    assert (root / ".schemac" / "shadow" / ".gitignore").read_text().endswith("*\n")


def test_status_and_stop_on_the_command_line(projects: Callable[[str], Path]) -> None:
    root = projects("p")
    status = run_schemac("shadow", "status", cwd=root)
    assert status.returncode == 1 and "no shadow server runs" in status.stdout
    pid, port, _ = server_of(root)
    status = run_schemac("shadow", "status", cwd=root)
    assert status.returncode == 0, status.stderr
    assert f"127.0.0.1:{port}" in status.stdout and "PostgreSQL" in status.stdout
    assert "data directory: " in status.stdout and "idle for " in status.stdout
    stopped = run_schemac("shadow", "stop", cwd=root)
    assert stopped.returncode == 0 and "stopped the shadow server" in stopped.stdout
    assert wait_for(lambda: not process_alive(pid))
    assert not (state_folder(root) / "server.json").exists()
    assert run_schemac("shadow", "status", cwd=root).returncode == 1


def test_a_killed_server_is_replaced_even_when_its_port_is_taken(
    projects: Callable[[str], Path],
) -> None:
    root = projects("p")
    pid, port, _ = server_of(root)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not process_alive(pid))
    with socket.socket() as squatter:
        # The killed server's connections linger in TIME_WAIT, and its children may hold the
        # port a moment longer: take it as soon as it is free.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        assert wait_for(lambda: _bound(squatter, port)), f"port {port} never came free"
        squatter.listen()
        new_pid, new_port, _ = server_of(root)
    assert new_pid != pid and new_port != port
    assert warm_status(root) is not None and warm_status(root).running  # type: ignore[union-attr]


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def test_a_server_without_its_password_file_is_replaced(projects: Callable[[str], Path]) -> None:
    root = projects("p")
    pid, _, _ = server_of(root)
    (state_folder(root) / "server.json").unlink()
    new_pid, _, _ = server_of(root)
    assert new_pid != pid
    assert not process_alive(pid)  # nobody knew its password any more: it was stopped


def test_two_projects_and_a_copied_project_never_share_a_server(
    projects: Callable[[str], Path], tmp_path: Path
) -> None:
    first, second = projects("first"), projects("second")
    first_pid, first_port, _ = server_of(first)
    second_pid, second_port, _ = server_of(second)
    assert first_pid != second_pid and first_port != second_port
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)  # .schemac/shadow/ comes along, naming first's server
    try:
        copy_pid, _, _ = server_of(copy)
        assert copy_pid != first_pid
        assert server_of(first)[0] == first_pid  # the original's server was left alone
    finally:
        stop_warm(copy)


def test_an_idle_server_stops_and_the_next_command_restarts_it_on_its_data(
    projects: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IDLE_SECONDS_ENV, "1")
    monkeypatch.setenv(ON_DISK_ENV, "1")  # data in the project, as without a memory folder
    root = projects("p")
    with open_warm(root, None) as server:
        server.create_database("survives_idle_stop")
        pid = json.loads((state_folder(root) / "server.json").read_text())["pid"]
        time.sleep(2.5)
        assert process_alive(pid), "stopped while a command was still using it"
    assert wait_for(lambda: not process_alive(pid), timeout=20), "idle server was not stopped"
    with open_warm(root, None) as again:
        assert again.database_exists("survives_idle_stop")


def test_data_in_memory_is_given_back_when_the_server_idles_out(
    projects: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = memory_folder(ServiceAccount.for_current_process())
    if memory is None:
        pytest.skip("this machine has no memory folder with room (schemac.memory_folder)")
    monkeypatch.setenv(IDLE_SECONDS_ENV, "1")
    root = projects("p")
    with open_warm(root, None) as server:
        server.create_database("gone_with_the_memory")
        state = json.loads((state_folder(root) / "server.json").read_text())
    pid, cluster = int(state["pid"]), Path(state["cluster"])
    assert cluster.parent == memory
    assert wait_for(lambda: not process_alive(pid), timeout=20), "idle server was not stopped"
    assert wait_for(lambda: not cluster.exists(), timeout=10), "its data still holds memory"
    with open_warm(root, None) as again:
        assert "warm, just started" in again.describe()
        assert not again.database_exists("gone_with_the_memory")


def test_the_server_of_a_deleted_project_is_stopped_and_its_data_removed(
    projects: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IDLE_SECONDS_ENV, "600")  # idleness would never stop it in this test
    root = projects("deleted")
    with open_warm(root, None) as server:
        server.create_database("kept_by_nobody")
    state = json.loads((state_folder(root) / "server.json").read_text())
    pid, cluster = int(state["pid"]), Path(state["cluster"])
    assert process_alive(pid)
    shutil.rmtree(root)
    # The guardian looks every 30 s at most (a quarter of the idle timeout, capped).
    assert wait_for(lambda: not process_alive(pid), timeout=60), "an orphaned server kept running"
    assert wait_for(lambda: not cluster.exists(), timeout=10), "its data directory was left behind"


@needs_pg15
def test_the_target_version_is_served_by_its_own_binaries(projects: Callable[[str], Path]) -> None:
    root = projects("p")
    _, _, version = server_of(root, 15)
    assert version.startswith("PostgreSQL 15.")
    # Another target replaces the server and its data directory (made by another version).
    _, _, version = server_of(root, 18)
    assert version.startswith("PostgreSQL 18.")
    status = warm_status(root)
    assert status is not None and status.version.startswith("18.")


def test_a_throwaway_server_runs_the_target_version_too() -> None:
    from schemac.shadow import open_shadow

    with open_shadow(None, 15 if (PG15_BIN / "postgres").is_file() else 18) as server:
        assert isinstance(server, PostgresServer)
        expected = 15 if (PG15_BIN / "postgres").is_file() else 18
        assert server.version // 10000 == expected


def test_check_says_which_server_it_runs_and_compares_unchanged_templates_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root = tmp_path / "school"
    shutil.copytree(request.getfixturevalue("baseline"), root)
    try:
        first = run_schemac("check", cwd=root)
        assert first.returncode == 0, first.stdout + first.stderr
        expected = "15." if (PG15_BIN / "postgres").is_file() else "18."
        assert f"shadow server: PostgreSQL {expected}" in first.stderr
        assert "(warm, " in first.stderr  # started while the YAML compiled
        # Equal schema dumps prove the shadows equal: migra is not needed.
        assert "comparing schema dumps" in first.stderr
        assert "diffing with migra" not in first.stderr
        second = run_schemac("check", cwd=root)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "(warm, up " in second.stderr
        assert "found equal before" in second.stderr and "diffing with migra" not in second.stderr
        # A change of the YAML is a new desired state: compared afresh, and found.
        school = root / support.SCHOOL_FILE
        school.write_text(
            school.read_text().replace("comment: A course.", "comment: A course (changed)."),
            encoding="utf-8",
        )
        changed = run_schemac("check", cwd=root)
        assert changed.returncode == 1 and "diffing with migra" in changed.stderr
    finally:
        stop_warm(root)


def test_a_project_folder_that_cannot_hold_a_server_gets_a_throwaway_one(
    projects: Callable[[str], Path],
) -> None:
    from schemac.drift import Steps, shadow_server
    from schemac.project import load_settings

    root = projects("read-only")
    (root / ".schemac").write_text("not a folder\n", encoding="utf-8")  # mkdir fails, even as root
    with shadow_server(None, Steps(), load_settings(root)) as servers:
        assert not servers.apart  # one throwaway server builds both shadows
        assert servers.migrations.description == "throwaway"
        assert servers.migrations.fetch("postgres", "SELECT 1") == [(1,)]


ROLE_PROJECT = """\
roles:
  app_one: {}
schema: app
grants: {app_one: [usage]}
tables:
  notes:
    columns:
      id: {type: integer, primary_key: true}
"""


def test_a_role_an_earlier_command_left_on_the_server_is_not_taken_for_the_migrations(
    projects: Callable[[str], Path],
) -> None:
    """check builds the new role on the warm server; when the history is replayed again (its
    template pruned, or a pull changed it), the migrations must still be seen not to create it."""
    root = projects("roles")
    (root / "schema").mkdir()
    unit = root / "schema" / "01_app.yaml"
    unit.write_text(ROLE_PROJECT, encoding="utf-8")
    assert run_schemac("compile", cwd=root).returncode == 0
    unit.write_text(
        ROLE_PROJECT.replace(
            "  app_one: {}\n", "  app_one: {}\n  app_two: {login: true}\n"
        ).replace("{app_one: [usage]}", "{app_one: [usage], app_two: [usage]}"),
        encoding="utf-8",
    )
    first = run_schemac("check", cwd=root)
    assert first.returncode == 1 and "role app_two: no migration creates it" in first.stdout
    with open_warm(root, load_settings(root).postgres_version) as server:
        replayed = server.fetch(
            "postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'schemac_tpl_a_%'"
        )
        assert replayed
        for (name,) in replayed:
            server.drop_database(name)
    again = run_schemac("check", cwd=root)
    assert again.returncode == 1 and "role app_two: no migration creates it" in again.stdout
    assert run_schemac("diff", "-m", "second role", cwd=root).returncode == 0
    written = (root / "generated" / "migrations" / "V002__second_role.sql").read_text()
    assert 'CREATE ROLE "app_two" LOGIN' in written
    assert run_schemac("check", cwd=root).returncode == 0


def test_the_migrations_and_the_desired_state_are_built_on_two_servers(
    projects: Callable[[str], Path],
) -> None:
    """Slot "a" replays the migrations, slot "b" builds the YAML: a role only the YAML declares
    is created on B's server, never on the server where the migrations are replayed."""
    root = projects("pair")
    (root / "schema").mkdir()
    unit = root / "schema" / "01_app.yaml"
    unit.write_text(ROLE_PROJECT, encoding="utf-8")
    assert run_schemac("compile", cwd=root).returncode == 0
    unit.write_text(ROLE_PROJECT.replace("  app_one: {}\n", "  app_one: {}\n  app_three: {}\n"))
    checked = run_schemac("check", cwd=root)
    assert checked.returncode == 1 and "role app_three: no migration creates it" in checked.stdout
    assert "; the desired state on 127.0.0.1:" in checked.stderr
    major = load_settings(root).postgres_version
    with open_warm(root, major, "a") as a, open_warm(root, major, "b") as b:
        assert a.address != b.address
        templates = "SELECT datname FROM pg_database WHERE datname LIKE 'schemac_tpl_%'"
        assert [str(n).split("_")[2] for (n,) in a.fetch("postgres", templates)] == ["a"]
        assert [str(n).split("_")[2] for (n,) in b.fetch("postgres", templates)] == ["b"]
        role = "SELECT rolname FROM pg_roles WHERE rolname = 'app_three'"
        assert a.fetch("postgres", role) == [] and b.fetch("postgres", role) == [("app_three",)]
    status = run_schemac("shadow", "status", cwd=root)
    assert status.returncode == 0, status.stderr
    assert "for the migrations" in status.stdout and "for the desired state" in status.stdout
    stopped = run_schemac("shadow", "stop", cwd=root)
    assert stopped.stdout.count("stopped the shadow server") == 2
    assert run_schemac("shadow", "status", cwd=root).returncode == 1


def test_a_migration_that_fails_is_reported_while_the_desired_state_builds_beside_it(
    projects: Callable[[str], Path],
) -> None:
    root = projects("broken")
    (root / "schema").mkdir()
    (root / "schema" / "01_app.yaml").write_text(ROLE_PROJECT, encoding="utf-8")
    assert run_schemac("compile", cwd=root).returncode == 0
    (migration,) = (root / "generated" / "migrations").glob("V001__*.sql")
    migration.write_text(migration.read_text() + "\nSELECT * FROM no_such_table;\n")
    checked = run_schemac("check", cwd=root)
    assert checked.returncode == 1
    assert "no_such_table" in checked.stdout and migration.name in checked.stdout
    major = load_settings(root).postgres_version
    with open_warm(root, major, "a") as a, open_warm(root, major, "b") as b:
        scratch = "SELECT datname FROM pg_database WHERE datname LIKE 'schemac_%'"
        assert a.fetch("postgres", scratch) == []  # the failed replay left nothing behind
        assert len(b.fetch("postgres", scratch)) == 1  # shadow B, built and kept


def test_stop_also_removes_the_single_server_folder_of_an_earlier_schemac(
    projects: Callable[[str], Path],
) -> None:
    root = projects("upgraded")
    with open_warm(root, None) as server:
        pid = json.loads((state_folder(root) / "server.json").read_text())["pid"]
        assert server.fetch("postgres", "SELECT 1") == [(1,)]
    legacy = state_folder(root, "")
    state_folder(root).rename(legacy)  # where schemac kept its one server before slots
    state = legacy / "server.json"  # its paths as that schemac wrote them
    state.write_text(state.read_text().replace(str(state_folder(root)), str(legacy)))
    cluster = Path(json.loads(state.read_text())["cluster"])
    stopped = stop_warm(root)
    assert [status.pid for status in stopped] == [pid]
    assert wait_for(lambda: not process_alive(pid)), "the old server kept running"
    assert not cluster.exists() and not state.exists()
