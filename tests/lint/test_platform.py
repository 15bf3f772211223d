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


def _platform_copy(folder: Path, lint_block: str) -> Path:
    import shutil

    for part in ("schema", "generated"):
        shutil.copytree(REPOSITORY / part, folder / part)
    settings = (REPOSITORY / "schemac.yaml").read_text(encoding="utf-8")
    (folder / "schemac.yaml").write_text(
        settings.replace("lint:\n", f"lint:\n{lint_block}", 1), encoding="utf-8"
    )
    return folder


def test_check_gates_on_what_the_projects_severities_make_an_error(tmp_path: Path) -> None:
    # squawk's ban-revoke is a warning, and check's gate leaves warnings out before it reads
    # the migrations: a project that makes it an error must still see check fail on it.
    root = _platform_copy(tmp_path / "p", "  severity: {ban-revoke: error}\n")
    result = run_schemac("check", "--offline", "--format", "json", cwd=root)
    assert result.returncode == 1, result.stderr
    found = [f for f in json.loads(result.stdout)["findings"] if f["category"] == "hazard"]
    assert found and {f["code"] for f in found} == {"squawk:ban-revoke"}
    assert all(f["file"].startswith("generated/migrations/V0") for f in found)
    # Put in context, each names the object it revokes on (read from the migration itself).
    assert all("(" in f["message"] for f in found), found


def test_check_passes_what_the_projects_severities_make_a_warning(tmp_path: Path) -> None:
    root = _platform_copy(
        tmp_path / "p", "  severity: {require-concurrent-index-creation: warning}\n"
    )
    result = run_schemac("check", "--offline", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
