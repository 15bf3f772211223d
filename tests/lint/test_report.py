"""`schemac lint` as CI sees it: output formats, exit codes, acknowledgements, --base."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from lint.support import SHOP_YAML, LintProject, findings, new_project

INDEX_FILE = "generated/migrations/V002__index_orders.sql"
INDEX_SQL = 'CREATE INDEX "orders_total_idx" ON "shop"."orders" ("total");\n'


def _with_index(root: Path, settings: str = "") -> LintProject:
    project = new_project(root, settings=settings)
    assert project.run("compile").returncode == 0
    project.write(INDEX_FILE, INDEX_SQL)
    return project


def test_text_output_names_file_line_code_and_fails(tmp_path: Path) -> None:
    project = _with_index(tmp_path / "p")
    result = project.run("lint")
    assert result.returncode == 1
    assert f"{INDEX_FILE}:1:1: error[squawk:require-concurrent-index-creation]: " in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("schemac lint: fails (1 error")
    assert "info not shown" in result.stdout  # V001's RLS statements on its own new tables


def test_json_output_shape(tmp_path: Path) -> None:
    document = _with_index(tmp_path / "p").lint_json(code=1)
    assert set(document) == {"ok", "exit_code", "files", "base", "findings"}
    assert document["ok"] is False and document["base"] is None
    [found] = findings(document, "require-concurrent-index-creation")
    assert set(found) == {
        "code",
        "source",
        "kind",
        "severity",
        "object",
        "message",
        "file",
        "line",
        "column",
        "hint",
        "blocking",
    }
    assert found["blocking"] is True


def test_github_annotations(tmp_path: Path) -> None:
    result = _with_index(tmp_path / "p").run("lint", "--format", "github")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    error = [line for line in lines if line.startswith("::error ")]
    assert error == [
        f"::error file={INDEX_FILE},line=1,col=1,"
        "title=schemac lint%3A squawk%3Arequire-concurrent-index-creation::"
        + error[0].split("::", 2)[2]
    ]
    assert all(
        line.startswith(("::error ", "::warning ", "::notice ", "schemac lint:")) for line in lines
    )
    assert "%0Ahint: " in error[0]  # the hint on its own line of the annotation


def test_an_acknowledged_finding_does_not_fail(tmp_path: Path) -> None:
    settings = f"""\
        version_width: 3
        lint:
          acknowledge:
            - rule: require-concurrent-index-creation
              file: {INDEX_FILE}
              reason: orders is empty until the launch; the build takes milliseconds
        """
    project = _with_index(tmp_path / "p", settings)
    document = project.lint_json(code=0)
    [found] = findings(document, "require-concurrent-index-creation")
    assert found["acknowledged"].startswith("orders is empty") and found["blocking"] is False
    text = project.run("lint").stdout
    assert f"{INDEX_FILE}:1:1: acknowledged[squawk:require-concurrent-index-creation]" in text
    # The same acknowledgement for another file matches nothing: the finding fails again, and
    # the stale acknowledgement is reported where it is written.
    project.write("schemac.yaml", settings.replace("V002__index_orders", "V009__other"))
    document = project.lint_json(code=1)
    [unused] = findings(document, "acknowledgement-unused")
    assert (unused["file"], unused["line"]) == ("schemac.yaml", 4)


def test_invalid_lint_settings_exit_2_at_their_line(tmp_path: Path) -> None:
    project = new_project(
        tmp_path / "p",
        settings="lint:\n  pg_version: nine\n  acknowledge:\n    - {rule: ban-drop-column}\n",
    )
    result = project.run("lint")
    assert result.returncode == 2
    assert "schemac.yaml:2:15: error[E201]: 'lint.pg_version'" in result.stderr
    assert "schemac.yaml:4:7: error[E201]: an acknowledgement needs 'reason'" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = project.run("lint", "--format", "json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["ok"] is False


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_base_reports_a_policy_dropped_from_a_tenant_table(tmp_path: Path) -> None:
    guarded = SHOP_YAML + (
        '    policies:\n      not_refunded: {command: all, as: restrictive, using: "total >= 0"}\n'
    )
    project = new_project(tmp_path / "p", guarded)
    _git(project.root, "init", "-q")
    _git(project.root, "add", ".")
    _git(project.root, "commit", "-qm", "base")
    assert project.lint_json("--base", "HEAD", code=0)["base"] == "HEAD"
    project.write("schema/01_shop.yaml", SHOP_YAML)
    [found] = findings(project.lint_json("--base", "HEAD", code=1), "tenant-policy-dropped")
    assert found["object"] == "shop.orders.not_refunded"
    assert found["line"] == project.line_of("  orders:")
    bad = project.run("lint", "--base", "no-such-revision")
    assert bad.returncode == 2 and "no-such-revision" in bad.stderr


def test_a_project_may_raise_or_lower_a_severity(tmp_path: Path) -> None:
    strict = "lint:\n  severity: {require-lock-timeout: error, require-concurrent-index-creation: info}\n"
    project = _with_index(tmp_path / "p", strict)
    document = project.lint_json(code=1)  # V001 and V002 set no lock_timeout
    assert {f["severity"] for f in findings(document, "require-lock-timeout")} == {"error"}
    assert {f["severity"] for f in findings(document, "require-concurrent-index-creation")} == {
        "info"
    }
    project.write("schemac.yaml", "lint:\n  severity: {require-lock-timeout: fatal}\n")
    result = project.run("lint")
    assert result.returncode == 2
    assert "schemac.yaml:2:36: error[E201]: the severity of require-lock-timeout" in result.stderr


def test_base_reports_a_policy_made_permissive_or_changed(tmp_path: Path) -> None:
    restrictive = '      refunds: {command: select, as: restrictive, using: "total >= 0"}\n'
    project = new_project(tmp_path / "p", SHOP_YAML + "    policies:\n" + restrictive)
    _git(project.root, "init", "-q")
    _git(project.root, "add", ".")
    _git(project.root, "commit", "-qm", "base")
    permissive = restrictive.replace("as: restrictive", "as: permissive")
    project.write("schema/01_shop.yaml", SHOP_YAML + "    policies:\n" + permissive)
    document = project.lint_json("--base", "HEAD", code=1)
    assert [f["object"] for f in findings(document, "tenant-policy-broadened")] == [
        "shop.orders.refunds"
    ]
    narrower = restrictive.replace("total >= 0", "total > 0")
    project.write("schema/01_shop.yaml", SHOP_YAML + "    policies:\n" + narrower)
    document = project.lint_json("--base", "HEAD", code=0)
    [changed] = findings(document, "authorization-change")
    assert (changed["severity"], changed["line"]) == ("warning", project.line_of("refunds:"))
