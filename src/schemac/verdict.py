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
import importlib.metadata
from pathlib import Path

import psycopg
from psycopg import sql

from schemac.drift import Comparison, Shadows, Steps, compare_databases
from schemac.errors import EnvironmentFailure

_PREFIX = "schemac: equal to "


@functools.cache
def comparison_fingerprint() -> str:
    """What, besides the two databases, decides a comparison: schemac's code, migra's version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for package in ("migra", "schemainspect"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


def _verdict(shadows: Shadows) -> str:
    return f"{_PREFIX}{shadows.migrations} {comparison_fingerprint()}"


def compare_shadows(shadows: Shadows, steps: Steps) -> Comparison:
    """How shadow A differs from shadow B; no work at all when they were found equal before."""
    server = shadows.server
    rows = server.fetch(
        server.maintenance_database,
        "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database "
        "WHERE datname = %s",
        (shadows.desired,),
    )
    if rows and rows[0][0] == _verdict(shadows):
        with steps.step("the templates were found equal before: nothing to compare", "compare"):
            return Comparison()
    comparison = compare_databases(
        server.url(shadows.migrations), server.url(shadows.desired), steps=steps
    )
    if comparison.equal:
        statement = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(shadows.desired), sql.Literal(_verdict(shadows))
        )
        # A server where schemac may not comment on its own database just compares every time.
        with contextlib.suppress(EnvironmentFailure, psycopg.Error), server.connect() as conn:
            conn.execute(statement)
    return comparison
