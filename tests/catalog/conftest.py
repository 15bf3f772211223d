"""The platform's desired state in a template database, once a session, for the catalog tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemac.shadow import PostgresServer, ensure_template, scratch_database

DESIRED_STATE = Path(__file__).resolve().parents[2] / "generated" / "desired-state.sql"


@pytest.fixture(scope="session")
def desired_template(pg_server: PostgresServer) -> str:
    text = DESIRED_STATE.read_text(encoding="utf-8")
    key = "catalog_" + hashlib.sha256(text.encode()).hexdigest()[:24]

    def build(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(text)

    return ensure_template(pg_server, key, build)


@pytest.fixture
def platform_copy(pg_server: PostgresServer, desired_template: str) -> Iterator[str]:
    """A fresh copy of the platform built from generated/desired-state.sql."""
    with scratch_database(pg_server, template=desired_template) as url:
        yield url
