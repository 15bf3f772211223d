"""The shadow and comparison machinery `diff` and `check` share, under one name.

Its parts: :mod:`schemac.migrations` (generated/migrations read, replayed and checked),
:mod:`schemac.shadows` (the shadow server, shadow A and B, connections) and
:mod:`schemac.comparison` (how two databases differ) and :mod:`schemac.objects` (which
object a difference is about, and where the YAML declares it).
The names diff.py, check.py and the tests import from here are re-exported.
"""

from __future__ import annotations

from schemac.clones import clone
from schemac.comparison import (
    Comparison,
    Difference,
    _read_only_url,
    compare_databases,
    describe_statement,
    migra_statements,
    sqlalchemy_url,
)
from schemac.migrations import (
    IntegrityProblem,
    MigrationFailed,
    MigrationScript,
    integrity_problems,
    migrations_digest,
    read_migrations,
    run_script,
    split_statements,
)
from schemac.objects import ObjectRef, locate
from schemac.role_drift import role_statements
from schemac.shadows import (
    TEMPLATES_KEPT,
    Progress,
    Shadows,
    Steps,
    apply_desired_state,
    build_shadows,
    connect,
    desired_state_digest,
    postgres_errors,
    replay_migrations,
    shadow_server,
)
from schemac.sql.names import unquote

__all__ = [
    "TEMPLATES_KEPT",
    "Comparison",
    "Difference",
    "IntegrityProblem",
    "MigrationFailed",
    "MigrationScript",
    "ObjectRef",
    "Progress",
    "Shadows",
    "Steps",
    "_read_only_url",
    "apply_desired_state",
    "build_shadows",
    "clone",
    "compare_databases",
    "connect",
    "describe_statement",
    "desired_state_digest",
    "integrity_problems",
    "locate",
    "migra_statements",
    "migrations_digest",
    "postgres_errors",
    "read_migrations",
    "replay_migrations",
    "role_statements",
    "run_script",
    "shadow_server",
    "split_statements",
    "sqlalchemy_url",
    "unquote",
]
