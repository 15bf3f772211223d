"""`schemac lint --db`: what a database has applied cannot change, so only pending files fail
(real PostgreSQL; Flyway's part played by the diff tests' stand-in)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from diff.support import flyway_migrate
from lint.support import findings, new_project

INDEX_FILE = "generated/migrations/V002__index_orders.sql"


def test_only_migrations_not_yet_applied_fail(tmp_path: Path, empty_db: str) -> None:
    project = new_project(tmp_path / "p")
    assert project.run("compile").returncode == 0
    project.write(INDEX_FILE, 'CREATE INDEX "orders_total_idx" ON "shop"."orders" ("total");\n')
    flyway_migrate(empty_db, project.root / "generated", seeds=False)  # V001 and V002
    document = project.lint_json("--db", empty_db, code=0)
    [index] = findings(document, "require-concurrent-index-creation")
    assert index["acknowledged"].startswith("applied to ") and not index["blocking"]
    # A new V003 with the same statement is pending there: it fails, V002's finding does not.
    project.write(
        "generated/migrations/V003__index_again.sql",
        'CREATE INDEX "orders_placed_idx" ON "shop"."orders" ("placed_at");\n',
    )
    document = project.lint_json("--db", empty_db, code=1)
    blocking = [f["file"] for f in document["findings"] if f["blocking"]]
    assert blocking == ["generated/migrations/V003__index_again.sql"]
    password = psycopg.conninfo.conninfo_to_dict(empty_db).get("password")
    if password:  # the embedded server has one; the reason names the database redacted
        assert str(password) not in json.dumps(document)


def test_an_unreachable_database_is_an_environment_failure(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p")
    result = project.run("lint", "--db", "postgresql://nobody:s3cret@127.0.0.1:1/none")
    assert result.returncode == 3 and "cannot connect" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
