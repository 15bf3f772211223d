"""`schemac import --schema app` on a database with a platform's `auth` schema: what app
references there is declared external, and the adopted project checks clean."""

from __future__ import annotations

from pathlib import Path

import yaml

from command_line import run_schemac
from diff.support import ok
from external.platform import deployed_project


def test_import_declares_what_the_app_references_as_external(
    tmp_path: Path, dev_url: str, database: str
) -> None:
    deployed_project(tmp_path / "source", dev_url, database)

    adopted = tmp_path / "adopted"
    adopted.mkdir()
    ok(run_schemac("init", cwd=adopted))
    ok(run_schemac("import", "--db", database, "--schema", "app", cwd=adopted))
    project = yaml.safe_load((adopted / "schema" / "00_project.yaml").read_text(encoding="utf-8"))
    auth = project["external"]["schemas"]["auth"]
    assert auth["tables"]["users"]["columns"] == {"id": {"type": "uuid", "primary_key": True}}
    assert auth["tables"]["users"]["triggers"]["on_auth_user_created"]["function"] == (
        "app.handle_new_user"
    )
    assert auth["functions"] == {"uid": {"returns": "uuid", "volatility": "stable"}}
    assert auth["types"] == {"aal_level": {"enum": ["aal1", "aal2", "aal3"]}}
    assert not list((adopted / "schema").glob("*auth*"))
    # the platform's roles the app's policies and grants name are the platform's, not created
    assert {"anon", "authenticated"} <= set(project["external"]["roles"])
    assert "roles" not in project

    ok(run_schemac("compile", "--dev-url", dev_url, cwd=adopted))
    baseline = "".join(
        p.read_text(encoding="utf-8") for p in (adopted / "generated" / "migrations").glob("*.sql")
    )
    assert 'CREATE SCHEMA "auth"' not in baseline and 'CREATE TABLE "auth"' not in baseline
    assert "CREATE ROLE" not in baseline
    # The database is the baseline: check --db finds nothing but the unapplied history.
    result = run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=adopted)
    said = result.stdout + result.stderr
    assert "differs from the YAML" not in said, said
