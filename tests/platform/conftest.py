"""Fixtures for tests of the e-learning platform as Flyway would build it from generated/.

``platform_template`` replays the committed migrations once per session into a template
database; ``platform_db`` hands each test its own clone of it.

Flyway's order is reproduced here because the test must see what Flyway builds.  Like the
deployment, it is two Flyway runs: first the migrations location (generated/migrations/,
or generated/ itself without seed-data/ when there is no such folder), then
generated/seed-data/.  Within a run, Flyway scans the location recursively and applies
every versioned migration in numeric version order, then every repeatable one sorted by
description.  Each file is sent as one simple query, which PostgreSQL runs as one implicit
transaction, as Flyway does; a file marked ``executeInTransaction=false`` holds a single
statement, so the same call runs it outside any transaction block.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from schemac.shadow import PostgresServer, ensure_template, scratch_database

GENERATED_DIR = Path(__file__).resolve().parents[2] / "generated"
MIGRATIONS_LOCATION = GENERATED_DIR / "migrations"
SEED_LOCATION = GENERATED_DIR / "seed-data"

_MIGRATION_NAME = re.compile(r"(?:V(?P<version>\d+(?:[._]\d+)*)|R)__(?P<description>.+)\.sql")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class Migration:
    path: Path
    version: tuple[int, ...] | None  # None: a repeatable migration
    description: str

    @property
    def label(self) -> str:
        return str(self.path.relative_to(GENERATED_DIR.parent))


def _version_key(text: str) -> tuple[int, ...]:
    # Flyway compares versions numerically part by part, "_" standing for ".", and missing
    # parts count as zero: V1, V001 and V1.0 are one version.
    parts = [int(part) for part in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def flyway_order(
    location: Path, *, exclude: Path | None = None, validate_naming: bool = True
) -> list[Migration]:
    """Migrations of one Flyway run over ``location`` (minus ``exclude``), in Flyway's order.

    Refuses, as Flyway does, two files for one version or one repeatable description, and
    (as generated/flyway.toml's validateMigrationNaming does) a misnamed .sql file.
    """
    versioned: dict[tuple[int, ...], Migration] = {}
    repeatable: dict[str, Migration] = {}
    for path in sorted(location.rglob("*.sql")):
        if exclude is not None and path.is_relative_to(exclude):
            continue
        match = _MIGRATION_NAME.fullmatch(path.name)
        if match is None:
            if validate_naming:
                pytest.fail(f"Flyway refuses the misnamed migration {path}", pytrace=False)
            continue
        description = match["description"].replace("_", " ")
        if match["version"] is None:
            migration = Migration(path, None, description)
            clash = repeatable.setdefault(description, migration)
        else:
            migration = Migration(path, _version_key(match["version"]), description)
            clash = versioned.setdefault(migration.version or (), migration)
        if clash is not migration:
            pytest.fail(
                f"Flyway refuses two migrations for one slot: {clash.label} and {migration.label}",
                pytrace=False,
            )
    return [versioned[key] for key in sorted(versioned)] + [
        repeatable[key] for key in sorted(repeatable)
    ]


def _content_digest(migrations: list[Migration]) -> str:
    """Digest of the migrations and their .conf files: the template's identity on a server."""
    digest = hashlib.sha256()
    for migration in migrations:
        for path in (migration.path, migration.path.with_name(migration.path.name + ".conf")):
            if path.exists():
                digest.update(str(path.relative_to(GENERATED_DIR)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def apply_migrations(url: str, migrations: list[Migration]) -> None:
    """Run ``migrations`` in order; a failure names the file and line PostgreSQL rejected."""
    with psycopg.connect(url, autocommit=True) as connection:
        for migration in migrations:
            text = migration.path.read_text(encoding="utf-8-sig")  # Flyway drops a BOM
            placeholder = _PLACEHOLDER.search(text)
            if placeholder:
                pytest.fail(
                    f"{migration.label}:{_line_at(text, placeholder.start())}: "
                    f"Flyway would try to replace placeholder {placeholder.group()}",
                    pytrace=False,
                )
            try:
                connection.execute(text)
            except psycopg.Error as error:
                # PostgreSQL reports a 1-based character position within the whole file.
                position = int(error.diag.statement_position or 1)
                line = _line_at(text, position - 1)
                pytest.fail(f"{migration.label}:{line}: {error}".rstrip(), pytrace=False)


def flyway_runs() -> list[Migration]:
    """Every migration of the two Flyway runs (migrations, then seed data), in order."""
    if MIGRATIONS_LOCATION.is_dir():
        main = flyway_order(MIGRATIONS_LOCATION)
    else:  # a flat generated/ also holds files that are not migrations (desired-state.sql)
        main = flyway_order(GENERATED_DIR, exclude=SEED_LOCATION, validate_naming=False)
    return main + flyway_order(SEED_LOCATION)


@pytest.fixture(scope="session")
def platform_template(request: pytest.FixtureRequest) -> str:
    """Name of a template database holding the platform built from generated/, once a session."""
    migrations = flyway_runs()
    if not any(migration.version is not None for migration in migrations):
        pytest.skip(f"{GENERATED_DIR} holds no V*.sql migrations yet: compile the schema first")
    # Asked for only now, so that a skip does not start a server for nothing.
    pg_server: PostgresServer = request.getfixturevalue("pg_server")
    key = f"platform_{_content_digest(migrations)}"
    return ensure_template(pg_server, key, lambda url: apply_migrations(url, migrations))


@pytest.fixture
def platform_db(pg_server: PostgresServer, platform_template: str) -> Iterator[str]:
    """URL of a fresh clone of the platform template, dropped after the test."""
    with scratch_database(pg_server, template=platform_template) as url:
        yield url
