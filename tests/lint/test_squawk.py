"""squawk, the real binary, on the migrations of a compiled project: what schemac keeps on,
what it knows better (Flyway's transactions, objects created in the same file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint.support import LintProject, findings, new_project

MIGRATIONS = "generated/migrations"


@pytest.fixture
def compiled(tmp_path: Path) -> LintProject:
    project = new_project(tmp_path / "p")
    result = project.run("compile")
    assert result.returncode == 0, result.stderr
    return project


def test_index_without_concurrently_on_an_existing_table_is_an_error(compiled: LintProject) -> None:
    compiled.write(
        f"{MIGRATIONS}/V002__index_orders.sql",
        """\
        -- written by hand: an index on a table V001 created, so it may be busy
        CREATE INDEX "orders_placed_at_idx" ON "shop"."orders" ("placed_at");
        """,
    )
    document = compiled.lint_json(code=1)
    [found] = findings(document, "require-concurrent-index-creation")
    assert found["source"] == "squawk" and found["kind"] == "index-build-blocks-writes"
    assert (found["file"], found["line"], found["column"]) == (
        f"{MIGRATIONS}/V002__index_orders.sql",
        2,
        1,
    )
    assert (found["severity"], found["object"]) == ("error", "shop.orders")
    assert f"{MIGRATIONS}/V001__create_shop_schema.sql" in document["files"]


def test_the_baseline_creating_its_tables_has_no_squawk_error(compiled: LintProject) -> None:
    document = compiled.lint_json(code=0)
    squawk = [f for f in document["findings"] if f["source"] == "squawk"]
    assert squawk, "squawk reported nothing at all on V001 (no lock_timeout there)"
    assert {f["severity"] for f in squawk} <= {"warning", "info"}
    # prefer-robust-stmts is off by configuration (see data/squawk.toml), and stays off.
    assert not findings(document, "prefer-robust-stmts")


def test_a_matview_created_in_the_same_file_makes_its_index_harmless(compiled: LintProject) -> None:
    compiled.write(
        f"{MIGRATIONS}/V002__totals.sql",
        """\
        CREATE MATERIALIZED VIEW "shop"."totals" AS SELECT count(*) AS n FROM "shop"."orders";
        CREATE UNIQUE INDEX "totals_n_key" ON "shop"."totals" ("n");
        """,
    )
    [found] = findings(compiled.lint_json(code=0), "require-concurrent-index-creation")
    assert found["severity"] == "info" and "created earlier in this file" in found["message"]


def test_files_flyway_runs_outside_a_transaction_are_linted_as_such(compiled: LintProject) -> None:
    # Flyway runs a file of only non-transactional statements outside a transaction by itself;
    # with one more statement the file is transactional and CONCURRENTLY fails in it.
    statements = (
        'CREATE INDEX CONCURRENTLY "orders_total_idx" ON "shop"."orders" ("total");\n'
        'COMMENT ON INDEX "shop"."orders_total_idx" IS \'Totals.\';\n'
    )
    compiled.write(f"{MIGRATIONS}/V002__index_total.sql", statements)
    document = compiled.lint_json(code=1)
    [found] = findings(document, "ban-concurrent-index-creation-in-transaction")
    assert found["severity"] == "error"
    compiled.write(f"{MIGRATIONS}/V002__index_total.sql.conf", "executeInTransaction=false\n")
    document = compiled.lint_json(code=0)
    assert not findings(document, "ban-concurrent-index-creation-in-transaction")
    assert not findings(document, "require-concurrent-index-creation")


def test_lint_given_files_reads_only_those(compiled: LintProject) -> None:
    path = compiled.write(
        "extra/risky.sql", 'ALTER TABLE "shop"."orders" ALTER COLUMN "total" TYPE numeric(12,2);\n'
    )
    document = compiled.lint_json(str(path), code=1)
    assert document["files"] == ["extra/risky.sql"]
    [found] = findings(document, "changing-column-type")
    assert found["kind"] == "table-rewrite" and found["line"] == 1
    missing = compiled.run("lint", "extra/nothing.sql")
    assert missing.returncode == 2 and "no such migration file" in missing.stderr
