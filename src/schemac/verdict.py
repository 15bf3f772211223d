"""Compare two shadow templates once: a verdict of "equal" is remembered on the server.

Template databases are named by a digest of what built them and never change once built,
so when shadow A (the migrations) and shadow B (the YAML) were found equal, they stay equal
until either digest changes, or schemac's comparison itself does (a digest of its code and of
migra's). The verdict is a comment on B's database, so it lives and dies with the templates,
on a warm server and on a ``--dev-url`` server alike. Only "equal" is remembered: differences
are always looked at again, so every finding is fresh.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from schemac.drift import Comparison, Shadows, Steps, compare_databases, connect
from schemac.errors import EnvironmentFailure
from schemac.server_binaries import server_bin_dir
from schemac.shadow import PostgresServer

_PREFIX = "schemac: equal to "


@functools.cache
def comparison_fingerprint() -> str:
    """What, besides the two databases, decides a comparison: schemac's code, migra's version."""
    digest = hashlib.sha256()
    folders = [Path(__file__).parent]
    # migra's and schemainspect's own source, found without importing them (migra's import
    # costs half a second) or reading their metadata (importlib.metadata costs 50 ms).
    for package in ("migra", "schemainspect"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            folders.append(Path(spec.origin).parent)
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _verdict(shadows: Shadows) -> str:
    return f"{_PREFIX}{shadows.migrations} {comparison_fingerprint()}"


def compare_shadows(shadows: Shadows, steps: Steps) -> Comparison:
    """How shadow A differs from shadow B; no work at all when they were found equal before.

    Equal schema dumps (pg_dump, the test suite's oracle) prove the databases equal at a
    fraction of migra's cost; only dumps that differ go on to migra and the catalog facts,
    which name every difference.
    """
    server = shadows.desired_server  # the verdict is a comment on B's database
    rows = server.fetch(
        server.maintenance_database,
        "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database "
        "WHERE datname = %s",
        (shadows.desired,),
    )
    if rows and rows[0][0] == _verdict(shadows):
        with steps.step("the templates were found equal before: nothing to compare", "compare"):
            return Comparison()
    with steps.step("comparing schema dumps", "dumps"):
        kept_dump = shadows.kept_file(shadows.desired, "dump")
        equal_dumps = same_schema_dump(
            shadows.migrations_url, shadows.desired_url, server.version // 10000, kept_dump
        )
    if equal_dumps:
        comparison = Comparison()
    else:
        # Both are templates: what a run before read of them is kept (schemac.inspections).
        kept = (
            shadows.kept_file(shadows.migrations, "inspection"),
            shadows.kept_file(shadows.desired, "inspection"),
        )
        comparison = compare_databases(
            shadows.migrations_url, shadows.desired_url, steps=steps, kept=kept
        )
    # A warning (a column order ALTER TABLE cannot reproduce) is a finding too: not remembered.
    if comparison.equal and not comparison.warnings:
        statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(shadows.desired), sql.Literal(_verdict(shadows))
        )
        # A server where schemac may not comment on its own database just compares every time.
        with contextlib.suppress(EnvironmentFailure, psycopg.Error), server.connect() as conn:
            conn.execute(statement)
    return comparison


def same_schema_dump(first: str, second: str, major: int, kept: Path | None = None) -> bool:
    """Whether ``pg_dump --schema-only`` (of PostgreSQL ``major``) prints the same for the
    databases at URLs ``first`` and ``second`` (run side by side).

    ``kept``: the file the dump of ``second``, a template database, is kept in
    (:mod:`schemac.inspections`), read from there or dumped and kept. False, never an error,
    when pg_dump cannot run (none of the server's version installed): the caller then
    compares the long way.
    """
    from concurrent.futures import ThreadPoolExecutor

    from schemac import inspections

    pg_dump = server_bin_dir(major) / "pg_dump"

    def dump(url: str) -> list[str] | None:
        found, fresh = inspections.taken(kept) if url == second else (None, True)
        if found is None:
            found, fresh = _schema_dump(pg_dump, url), True
        if url == second and fresh and found is not None:
            inspections.store(kept, found)
        return found

    with ThreadPoolExecutor(2) as pool:
        dumps = list(pool.map(dump, (first, second)))
    if dumps[0] is None or dumps[0] != dumps[1]:
        return False
    return all(_fetch(first, query) == _fetch(second, query) for query in _UNDUMPED)


def _fetch(url: str, query: str) -> list[tuple[object, ...]]:
    with connect(url) as conn:
        return conn.execute(query).fetchall()


def dump_ahead(server: PostgresServer, template: str, kept: Path | None) -> None:
    """Start ``pg_dump --schema-only`` of a template database now, in a thread, kept in
    ``kept`` for the comparison to come (nothing when it is kept already)."""
    from schemac import inspections

    pg_dump = server_bin_dir(server.version // 10000) / "pg_dump"
    inspections.read_ahead(kept, lambda: _schema_dump(pg_dump, server.url(template)))


# What a schema-only dump does not print: whether each materialized view is populated (it
# creates every one WITH NO DATA) and each extension's version (CREATE EXTENSION names none).
_UNDUMPED = (
    "SELECT n.nspname, c.relname, c.relispopulated FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' "
    "ORDER BY 1, 2",
    "SELECT extname, extversion FROM pg_catalog.pg_extension ORDER BY 1",
)


def _schema_dump(pg_dump: Path, url: str) -> list[str] | None:
    params = psycopg.conninfo.conninfo_to_dict(url)
    # The password goes through the environment: a command line is visible to every local user.
    password = params.pop("password", None)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        environment["PGPASSWORD"] = str(password)
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})
    try:
        completed = subprocess.run(
            [str(pg_dump), "--schema-only", "--quote-all-identifiers",
             "-d", conninfo],
            capture_output=True, text=True, env=environment, timeout=300, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    # PostgreSQL 18's pg_dump guards its output with a random key; comments name versions.
    return [
        line
        for line in completed.stdout.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped "))
    ]
