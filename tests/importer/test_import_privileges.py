"""Import writes privileges exactly: PUBLIC where it differs from PostgreSQL's defaults, and
the roles the YAML could not create as they are under `external: roles`."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml

from command_line import run_schemac

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def test_public_and_external_roles_are_written_as_the_database_has_them(
    empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / "grants.sql").read_text(encoding="utf-8"))
    done = run_schemac("init", "--db", empty_db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning:" not in done.stderr, done.stderr
    project = yaml.safe_load((tmp_path / "schema" / "00_project.yaml").read_text())
    vault = yaml.safe_load((tmp_path / "schema" / "02_vault.yaml").read_text())
    public = yaml.safe_load((tmp_path / "schema" / "01_public.yaml").read_text())
    people = public.pop("tables")["people"]
    assert public == {"schema": "public", "grants": {"public": []}}  # USAGE revoked from PUBLIC
    # column privileges: each column's own grants:, WITH GRANT OPTION kept; salary's INSERT was
    # revoked again (its ACL is empty: nothing written)
    assert people["grants"] == {"grants_admin": ["select"]}
    columns = people["columns"]
    assert columns["id"]["grants"] == {
        "grants_app": ["select", {"references": "with_grant_option"}]
    }
    assert columns["email"]["grants"] == {"public": ["insert"], "grants_app": ["select", "update"]}
    assert columns["Phone"]["grants"] == {"grants_app": [{"select": "with_grant_option"}]}
    assert "grants" not in columns["salary"]
    assert project["external"] == {"roles": ["grants_admin"]}  # a superuser: the server's
    assert set(project["roles"]) == {"grants_app", "grants_owner"}
    functions = vault["functions"]
    # new functions lose PUBLIC's EXECUTE by default privileges: PUBLIC is named where it has it
    # default privileges WITH GRANT OPTION are imported as {privilege: with_grant_option}
    assert project["default_privileges"] == [
        {"functions": {"public": []}},
        {
            "for_role": "grants_owner",
            "functions": {"grants_app": [{"execute": "with_grant_option"}]},
        },
    ]
    assert vault["default_privileges"] == [
        {"tables": {"grants_app": ["select"]}},
        {
            "for_role": "grants_owner",
            "tables": {"grants_app": [{"insert": "with_grant_option"}]},
            "sequences": {"grants_app": ["usage"]},
        },
    ]
    assert functions["plain"]["grants"] == {"grants_app": ["execute"]}
    assert functions["open_definer"]["grants"] == {"public": ["execute"]}
    assert functions["closed_definer"]["grants"] == {"grants_admin": ["execute"]}
    assert functions["everyone"]["grants"] == {"public": ["execute"]}
    assert "grants" not in functions["later_function"]
    assert vault["grants"] == {
        "public": ["usage"],
        "grants_admin": ["usage", "create"],
        "grants_app": ["usage"],
    }
    assert vault["enums"]["level"] == {
        "values": ["low", "high"],
        "grants": {"public": [], "grants_app": ["usage"]},
    }
    assert vault["domains"]["code"]["grants"] == {"grants_app": ["usage"]}
    pair = vault["composite_types"]["pair"]
    assert pair["grants"] == {"public": [], "grants_app": ["usage"]}
    span = vault["range_types"]["span"]
    assert span["grants"] == {"grants_app": [{"usage": "with_grant_option"}]}
    tables = vault["tables"]
    # grants_app reads new tables by default privileges: a table says all it holds, or nothing
    # when it holds just that
    assert "table_grants" not in vault
    assert tables["tags"]["grants"] == {
        "public": ["select"],
        "grants_app": [{"select": "with_grant_option"}, "insert", "update", "delete"],
    }
    assert tables["notes"]["grants"] == {
        "grants_app": ["select", "insert", "update", "delete", "truncate"]
    }
    assert tables["secrets"]["grants"] == {"grants_admin": ["select"]}
    assert "grants" not in tables["later"]


def test_a_limited_import_writes_every_role_as_external(empty_db: str, tmp_path: Path) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / "grants.sql").read_text(encoding="utf-8"))
    assert run_schemac("init", cwd=tmp_path).returncode == 0
    done = run_schemac("import", "--db", empty_db, "--schema", "vault", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = yaml.safe_load((tmp_path / "schema" / "00_project.yaml").read_text())
    assert project["external"]["roles"] == ["grants_admin", "grants_app", "grants_owner"]
    assert "roles" not in project
    assert run_schemac("compile", "--offline", cwd=tmp_path).returncode == 0
    baseline = "".join(
        p.read_text() for p in sorted((tmp_path / "generated" / "migrations").glob("V*.sql"))
    )
    assert "CREATE ROLE" not in baseline
    assert 'CREATE SCHEMA "vault" AUTHORIZATION "grants_owner";' in baseline
