"""`schemac diff` prints squawk's verdict on the migration it writes (real diff, real squawk)."""

from __future__ import annotations

import json
from pathlib import Path

from lint.support import SHOP_FILE, SHOP_YAML, new_project


def test_diff_prints_the_lint_of_the_file_it_writes(tmp_path: Path, dev_url: str) -> None:
    project = new_project(tmp_path / "p")
    assert project.run("compile").returncode == 0
    indexed = SHOP_YAML + "    indexes:\n      - {columns: [placed_at]}\n"
    project.write(SHOP_FILE, indexed)
    result = project.run("diff", "-m", "index orders by date", "--dev-url", dev_url)
    assert result.returncode == 0, result.stderr
    written = sorted((project.root / "generated/migrations").glob("V002__*.sql"))
    assert written, result.stdout
    summary = [line for line in result.stderr.splitlines() if line.startswith("schemac lint: ")]
    assert summary == [summary[0]] and f"{len(written)} migration file" in summary[0]
    # What diff printed is what `schemac lint` says of the written files, finding for finding.
    document = json.loads(
        project.run("lint", "--format", "json", *[str(p) for p in written]).stdout
    )
    shown = [f for f in document["findings"] if f["severity"] != "info"]
    for found in shown:
        where = f"{found['file']}:{found['line']}:{found['column']}: "
        assert any(line.startswith(where) for line in result.stderr.splitlines()), where
    printed = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("generated/migrations/V002") and "[squawk:" in line
    ]  # the plan's own hazards are printed at the same files, without "squawk:"
    assert len(printed) == len(shown)
