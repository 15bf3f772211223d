"""Database privileges of the application roles, and the role-based access control data.

app_user may read and write rows but never change the schema; app_reporting may only read;
neither is a superuser or bypasses row-level security. The schemas and relations are found in
the catalog, so a schema or table added later is checked too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

APP_ROLES = ("app_user", "app_reporting")
CORE_SCHEMAS = {"user_management", "course_management", "content_management"}
CATALOGUE_TABLES = ("permissions", "system_roles", "system_role_permissions")


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(platform_db, autocommit=True) as connection:
        yield connection


def platform_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Schemas the application may use: those app_user has USAGE on, minus the system's."""
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace"
        " WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%%' AND nspname <> 'public'"
        "   AND has_schema_privilege('app_user', oid, 'USAGE')"
        " ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def relations(
    conn: psycopg.Connection[Any], kinds: str = "rpvm"
) -> list[tuple[str, str, str, bool]]:
    """(schema, name, relkind, is_partition) of every relation in the platform schemas."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT n.nspname, c.relname, c.relkind::text, c.relispartition FROM pg_class AS c"
            " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY(%s) AND c.relkind = ANY(%s) ORDER BY 1, 2",
            (platform_schemas(conn), list(kinds)),
        ).fetchall()
    ]


def attempt(
    conn: psycopg.Connection[Any], statement: sql.Composable | str, params: tuple[Any, ...] = ()
) -> int | psycopg.Error:
    """Run a statement in a savepoint that is always rolled back: its row count, or its error."""
    conn.execute("SAVEPOINT attempt")
    try:
        return conn.execute(statement, params).rowcount  # type: ignore[arg-type]
    except psycopg.Error as error:
        return error
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT attempt")


def denied(outcome: int | psycopg.Error) -> bool:
    return isinstance(outcome, psycopg.errors.InsufficientPrivilege)


def test_the_core_schemas_are_open_to_the_application(conn: psycopg.Connection[Any]) -> None:
    assert set(platform_schemas(conn)) >= CORE_SCHEMAS
    for schema in CORE_SCHEMAS:
        assert conn.execute(
            "SELECT has_schema_privilege('app_reporting', %s, 'USAGE')", (schema,)
        ).fetchone() == (True,)


@pytest.mark.parametrize("role", APP_ROLES)
def test_application_roles_have_no_special_powers(conn: psycopg.Connection[Any], role: str) -> None:
    attributes = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication"
        " FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    assert attributes == (False, False, False, False, False, False)
    # Nor may it borrow them: no membership in a role that has them, or in the migration role.
    borrowed = conn.execute(
        "SELECT r.rolname FROM pg_roles AS r"
        " WHERE pg_has_role(%s, r.oid, 'MEMBER') AND r.rolname <> %s"
        "   AND (r.rolsuper OR r.rolbypassrls OR r.rolname = 'app_owner' OR r.rolname = 'pg_write_all_data')",
        (role, role),
    ).fetchall()
    assert borrowed == []


@pytest.mark.parametrize("role", APP_ROLES)
def test_application_roles_cannot_change_the_schema(
    conn: psycopg.Connection[Any], role: str
) -> None:
    schemas = platform_schemas(conn)
    tables = relations(conn, "rp")
    creatable = [
        s
        for s in [*schemas, "public"]
        if conn.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", (role, s)).fetchone()[0]
    ]  # type: ignore[index]
    assert creatable == []

    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    conn.execute("BEGIN")
    problems = []
    for schema in [*schemas, "public"]:
        for statement in (
            sql.SQL("CREATE TABLE {}.intruder (id integer)").format(sql.Identifier(schema)),
            sql.SQL(
                "CREATE FUNCTION {}.intruder() RETURNS integer LANGUAGE sql AS 'SELECT 1'"
            ).format(sql.Identifier(schema)),
            sql.SQL("CREATE VIEW {}.intruder AS SELECT 1 AS one").format(sql.Identifier(schema)),
        ):
            outcome = attempt(conn, statement)
            if not denied(outcome):
                problems.append(f"{statement.as_string(conn)}: {outcome}")
        outcome = attempt(conn, sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        if not denied(outcome):
            problems.append(f"DROP SCHEMA {schema}: {outcome}")
    for schema, name, _, _ in tables:
        ident = sql.Identifier(schema, name)
        for statement in (
            sql.SQL("ALTER TABLE {} ADD COLUMN intruder integer").format(ident),
            sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(ident),
            sql.SQL("DROP TABLE {}").format(ident),
            sql.SQL("TRUNCATE {}").format(ident),
        ):
            outcome = attempt(conn, statement)
            if not denied(outcome):
                problems.append(f"{statement.as_string(conn)}: {outcome}")
    conn.execute("ROLLBACK")
    assert not problems, "\n".join(problems)


def test_reporting_reads_everything_and_writes_nothing(conn: psycopg.Connection[Any]) -> None:
    """Every table and view, but no materialized view: row-level security does not filter one,
    and each holds every organisation's rows, so both roles read them through the views that
    filter by tenant (schemac lint's tenant-matview-readable)."""
    problems = []
    for schema, name, kind, is_partition in relations(conn):
        qualified = f"{schema}.{name}"
        privileges = conn.execute(
            "SELECT p, has_table_privilege('app_reporting', %s::regclass, p)"
            " FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p",
            (sql.Identifier(schema, name).as_string(conn),),
        ).fetchall()
        held = {p for p, has in privileges if has}
        if held - {"SELECT"}:
            problems.append(f"{qualified}: app_reporting holds {sorted(held - {'SELECT'})}")
        if kind == "m":
            if "SELECT" in held:
                problems.append(f"{qualified}: app_reporting reads every organisation's rows")
        # Partitions are read through their parent.
        elif "SELECT" not in held and not is_partition:
            problems.append(f"{qualified} ({kind}): app_reporting cannot read it")
    assert not problems, "\n".join(problems)


def test_reporting_really_is_refused_writes(conn: psycopg.Connection[Any]) -> None:
    org = conn.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES ('acme', 'Acme') RETURNING id"
    ).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%s, 'a@acme.example', 'A')",
        (org,),
    )
    conn.execute("SET ROLE app_reporting")
    conn.execute("SELECT set_config('app.current_organization_id', %s, false)", (str(org),))
    assert conn.execute("SELECT count(*) FROM user_management.users").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM user_management.permissions").fetchone()[0] > 0  # type: ignore[index]
    conn.execute("BEGIN")
    for statement in (
        "INSERT INTO user_management.users (organization_id, email, display_name)"
        " VALUES (current_setting('app.current_organization_id')::uuid, 'b@acme.example', 'B')",
        "UPDATE user_management.users SET display_name = 'Changed'",
        "DELETE FROM user_management.users",
        "INSERT INTO course_management.courses (organization_id, slug, title)"
        " VALUES (current_setting('app.current_organization_id')::uuid, 'c', 'C')",
        "UPDATE content_management.content_items SET title = 'x'",
        "DELETE FROM user_management.audit_log",
    ):
        outcome = attempt(conn, statement)
        assert denied(outcome), (statement, outcome)
        assert "permission denied" in str(outcome)
    conn.execute("ROLLBACK")


def test_app_user_reads_but_cannot_change_the_global_catalogues(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("SET ROLE app_user")
    conn.execute("BEGIN")
    problems = []
    for table in CATALOGUE_TABLES:
        ident = sql.Identifier("user_management", table)
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]  # type: ignore[index]
        if count == 0:
            problems.append(f"{table}: app_user sees no seeded rows")
        first_column = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1",
            (f"user_management.{table}",),
        ).fetchone()[0]  # type: ignore[index]
        column = sql.Identifier(first_column)
        for verb, statement in (
            ("UPDATE", sql.SQL("UPDATE {t} SET {c} = {c}").format(t=ident, c=column)),
            ("DELETE", sql.SQL("DELETE FROM {t}").format(t=ident)),
        ):
            outcome = attempt(conn, statement)
            if not (outcome == 0 or denied(outcome)):
                problems.append(f"{table}: {verb} by app_user gave {outcome}")
    outcome = attempt(
        conn,
        "INSERT INTO user_management.permissions (code, category, description) VALUES ('everything.allowed', 'x', 'x')",
    )
    if not denied(outcome):
        problems.append(f"permissions: INSERT by app_user gave {outcome}")
    conn.execute("ROLLBACK")
    assert not problems, "\n".join(problems)


def test_a_new_organization_gets_the_system_roles_and_permissions(
    conn: psycopg.Connection[Any],
) -> None:
    org = conn.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES ('globex', 'Globex') RETURNING id"
    ).fetchone()[0]  # type: ignore[index]
    expected = conn.execute(
        "SELECT sr.key, count(srp.permission_code) FROM user_management.system_roles AS sr"
        " LEFT JOIN user_management.system_role_permissions AS srp ON srp.system_role_key = sr.key"
        " GROUP BY sr.key ORDER BY 1"
    ).fetchall()
    provisioned = conn.execute(
        "SELECT r.key, count(rp.permission_id) FROM user_management.roles AS r"
        " LEFT JOIN user_management.role_permissions AS rp ON rp.role_id = r.id"
        " WHERE r.organization_id = %s GROUP BY r.key ORDER BY 1",
        (org,),
    ).fetchall()
    assert {key for key, _ in expected} >= {"learner", "instructor", "org_admin"}
    assert provisioned == expected
    # The organization administrator carries every permission of the catalogue.
    assert conn.execute(
        "SELECT count(*) FROM user_management.permissions AS p WHERE p.code NOT IN ("
        " SELECT permission_code FROM user_management.system_role_permissions WHERE system_role_key = 'org_admin')"
    ).fetchone() == (0,)


def test_permission_checks_follow_roles_and_expiry(conn: psycopg.Connection[Any]) -> None:
    org = conn.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES ('initech', 'Initech') RETURNING id"
    ).fetchone()[0]  # type: ignore[index]
    learner, guest = (
        conn.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%s, %s, %s) RETURNING id",
            (org, email, name),
        ).fetchone()[0]  # type: ignore[index]
        for email, name in (
            ("learner@initech.example", "Learner"),
            ("guest@initech.example", "Guest"),
        )
    )
    # The guest instructor's role ran out yesterday.
    conn.execute(
        "INSERT INTO user_management.user_roles (organization_id, user_id, role_id, granted_at, expires_at)"
        " SELECT %s, %s, r.id, now() - interval '30 days', now() - interval '1 day'"
        " FROM user_management.roles AS r WHERE r.organization_id = %s AND r.key = 'instructor'",
        (org, guest, org),
    )
    conn.execute("SET ROLE app_user")
    conn.execute("SELECT set_config('app.current_organization_id', %s, false)", (str(org),))
    check = "SELECT user_management.user_has_permission(%s, %s)"
    # New users get the default role (learner) automatically.
    assert conn.execute(check, (learner, "courses.view")).fetchone() == (True,)
    assert conn.execute(check, (learner, "courses.publish")).fetchone() == (False,)
    assert conn.execute(check, (guest, "courses.publish")).fetchone() == (False,)
    assert conn.execute(check, (guest, "enrollments.self_enroll")).fetchone() == (True,)
    # Another tenant selected: the same user holds nothing visible.
    conn.execute("SELECT set_config('app.current_organization_id', gen_random_uuid()::text, false)")
    assert conn.execute(check, (learner, "courses.view")).fetchone() == (False,)
