"""The `migrations:` settings (checked at their line) and `schemac check`'s gate on squawk's
error findings in migrations not yet applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from diff.support import Project, ok
from schemac.errors import InvalidInput
from schemac.project import load_settings


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("migrations: {lock_timeout: soon}", "'migrations.lock_timeout' must be a duration"),
        ("migrations: {statement_timeout: 5 min}", "'migrations.statement_timeout' must be"),
        ("migrations: {concurrent_indexes: yes please}", "must be true or false"),
        ("migrations: {concurent_indexes: false}", "unknown key 'concurent_indexes'"),
        ("migrations: [lock_timeout]", "'migrations' must be a mapping"),
    ],
)
def test_bad_settings_are_reported_at_their_line(tmp_path: Path, block: str, message: str) -> None:
    (tmp_path / "schemac.yaml").write_text(f"version_width: 3\n{block}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_settings(tmp_path)
    (problem,) = raised.value.diagnostics
    assert message in problem.message
    assert problem.location is not None and problem.location.line == 2


def test_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "schemac.yaml").write_text(
        "migrations: {lock_timeout: 2s, statement_timeout: 0, concurrent_indexes: false}\n",
        encoding="utf-8",
    )
    settings = load_settings(tmp_path).migrations
    assert (settings.lock_timeout, settings.statement_timeout) == ("2s", "0")
    assert not settings.concurrent_indexes and settings.validate_constraints


def test_check_fails_on_an_unacknowledged_error_in_a_pending_migration(project: Project) -> None:
    project.write("schemac.yaml", "version_width: 3\nmigrations: {concurrent_indexes: false}\n")
    project.edit(
        "      - {columns: [level, created_at desc]}\n",
        "      - {columns: [level, created_at desc]}\n      - {columns: [price]}\n",
    )
    ok(project.diff("plain index"))
    failed = ok(project.check(), 1)
    assert "error[squawk:require-concurrent-index-creation]" in failed.stdout
    assert "generated/migrations/V002__plain_index.sql:" in failed.stdout
    project.write(
        "schemac.yaml",
        "version_width: 3\nmigrations: {concurrent_indexes: false}\nlint:\n  acknowledge:\n"
        "    - {rule: index-build-blocks-writes, object: school.courses, reason: 40 rows}\n",
    )
    assert "schemac check: ok" in ok(project.check()).stdout


def test_a_rewrite_allowed_on_the_command_line_is_recorded_in_the_file(project: Project) -> None:
    project.edit(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: bigint, not_null: true, default: "0"}\n',
    )
    refused = ok(project.diff("wider positions"), 2)
    assert "--allow-rewrite" in refused.stderr
    ok(project.diff("wider positions", "--allow-rewrite"))
    text = project.migration("wider_positions")
    assert "-- allowed by schemac diff on the command line: table-rewrite\n" in text
    assert "schemac check: ok" in ok(project.check()).stdout  # the record acknowledges it
    lint = project.run("lint", "--format", "json", "generated/migrations/V002__wider_positions.sql")
    assert (
        '"acknowledged": "table-rewrite allowed on the command line by schemac diff"' in lint.stdout
    )
