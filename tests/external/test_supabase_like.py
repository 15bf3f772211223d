"""External objects end to end: a Supabase-like `auth` schema the project references but does
not manage (tests/external/platform.py), on a real PostgreSQL, with the real CLI."""

from __future__ import annotations

from pathlib import Path

import pglast
import psycopg

from command_line import run_schemac
from diff.support import flyway_migrate, ok
from external.platform import deployed_project, install_platform, write_project
from schemac.sql.classify import classify


def _statements(text: str) -> list[str]:
    return [s.strip() for s in pglast.split(text) if s.strip()]


def _touches_auth(statement: str) -> bool:
    """Whether a statement creates, alters or drops something in auth (a trigger ON auth.users
    is the project's own and is allowed)."""
    found = classify(statement)
    if found.kind in ("create trigger", "comment") or found.object_kind == "trigger":
        return False
    return found.schema == "auth"


def test_auth_platform_compile_apply_check_diff(
    tmp_path: Path, dev_url: str, database: str
) -> None:
    root = tmp_path / "project"
    write_project(root)
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=root))
    migrations = sorted((root / "generated" / "migrations").glob("V*.sql"))
    baseline = "\n".join(p.read_text(encoding="utf-8") for p in migrations)
    # Nothing external is created by a migration; the trigger on auth.users is ours.
    assert not [s for s in _statements(baseline) if _touches_auth(s)]
    assert 'CREATE TRIGGER "on_auth_user_created" AFTER INSERT ON "auth"."users"' in baseline
    assert "CREATE ROLE" not in baseline and 'CREATE SCHEMA "auth"' not in baseline

    # Production already has the platform; Flyway applies the baseline on top of it.
    install_platform(database)
    flyway_migrate(database, root / "generated")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO auth.users (id, raw_user_meta_data) "
            "VALUES ('00000000-0000-0000-0000-000000000001', '{\"name\": \"Ada\"}')"
        )
        row = conn.execute("SELECT display_name FROM app.profiles").fetchone()
    assert row == ("Ada",)  # the trigger on the external table called the app's function

    ok(run_schemac("check", "--dev-url", dev_url, cwd=root))
    ok(run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root))

    # A change of the app: the new migration says nothing about auth.
    app = root / "schema" / "01_app.yaml"
    app.write_text(
        app.read_text(encoding="utf-8").replace(
            "      display_name: {type: text}\n",
            "      display_name: {type: text}\n      bio: {type: text}\n",
        ),
        encoding="utf-8",
    )
    ok(run_schemac("diff", "-m", "add bio", "--dev-url", dev_url, cwd=root))
    new = [p for p in (root / "generated" / "migrations").glob("V*.sql") if p not in migrations]
    assert len(new) == 1
    statements = _statements(new[0].read_text(encoding="utf-8"))
    assert statements and not [s for s in statements if "auth" in s]
    flyway_migrate(database, root / "generated")
    ok(run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root))


def test_drift_of_a_managed_trigger_on_an_external_table_is_found(
    tmp_path: Path, dev_url: str, database: str
) -> None:
    """Filtering auth out must not hide the project's own trigger on auth.users."""
    root = deployed_project(tmp_path / "project", dev_url, database)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TRIGGER on_auth_user_created ON auth.users")
    result = run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "on_auth_user_created" in result.stdout + result.stderr


def test_diff_db_on_the_platform_says_nothing_about_auth(
    tmp_path: Path, dev_url: str, database: str
) -> None:
    root = deployed_project(tmp_path / "project", dev_url, database)
    clean = ok(run_schemac("diff", "--db", database, "--dev-url", dev_url, cwd=root))
    assert clean.stdout == "" and "no difference" in clean.stderr
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.profiles ALTER COLUMN display_name SET DEFAULT 'anon'")
        conn.execute("ALTER TABLE auth.users ADD COLUMN phone text")  # the platform's business
    repair = ok(run_schemac("diff", "--db", database, "--dev-url", dev_url, cwd=root))
    statements = _statements(repair.stdout)
    assert [s for s in statements if "display_name" in s]
    assert not [s for s in statements if "auth" in s], repair.stdout
    (root / "repair.sql").write_text(repair.stdout, encoding="utf-8")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute((root / "repair.sql").read_bytes())
    ok(run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root))
