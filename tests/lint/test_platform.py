"""`schemac lint` on the repository's own platform and its generated/ migrations."""

from __future__ import annotations

import json
from pathlib import Path

from command_line import run_schemac

REPOSITORY = Path(__file__).resolve().parents[2]


def test_platform_migrations_have_no_squawk_error() -> None:
    result = run_schemac("lint", "--format", "json", cwd=REPOSITORY)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    assert len(document["files"]) >= 8
    squawk = [f for f in document["findings"] if f["source"] == "squawk"]
    assert squawk and not [f for f in squawk if f["severity"] == "error"]
    # Every index the baseline builds is on a table or materialized view that the same file
    # creates, in the same transaction: none is a write-blocking build on a busy table.
    for found in squawk:
        if found["code"] == "require-concurrent-index-creation":
            assert found["severity"] == "info", found
    # Whatever schemac's own rules say is said at a line of the YAML.
    for found in document["findings"]:
        if found["source"] == "schemac":
            assert found["file"].startswith("schema/") and found["line"] >= 1, found
