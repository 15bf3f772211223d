"""Tenant isolation of the platform, as the application (app_user) experiences it.

Two organizations get data in every domain the core schemas cover (plus whatever the triggers
write into other schemas, such as points for a completed lesson). Connected as app_user with
tenant A selected, no row of tenant B may be seen, changed, removed or created. The tables are
found in the catalog, so a table added later is checked without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

TENANT_SETTING = "app.current_organization_id"
TENANT_COLUMN = "organization_id"

# Tables the fixture fills for both tenants: the isolation checks must not pass vacuously here.
POPULATED_TABLES = frozenset(
    {
        "user_management.users",
        "user_management.user_identities",
        "user_management.roles",
        "user_management.role_permissions",
        "user_management.user_roles",
        "user_management.user_sessions",
        "user_management.login_history",
        "user_management.audit_log",
        "course_management.course_categories",
        "course_management.courses",
        "course_management.course_staff",
        "course_management.modules",
        "course_management.lessons",
        "course_management.learning_paths",
        "course_management.learning_path_courses",
        "course_management.course_prerequisites",
        "course_management.enrollments",
        "course_management.lesson_progress",
        "content_management.media_assets",
        "content_management.content_items",
        "content_management.content_versions",
        "content_management.lesson_content_items",
        "content_management.tags",
        "content_management.content_item_tags",
        "content_management.course_tags",
    }
)


@dataclass(frozen=True)
class TenantTable:
    qualified: str  # schema.table, as written in POPULATED_TABLES
    schema: str
    name: str
    kind: str  # pg_class.relkind: r (table) or p (partitioned table)
    is_partition: bool
    rls_enabled: bool
    rls_forced: bool

    @property
    def ident(self) -> sql.Composed:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True)
class Tenants:
    a: str
    b: str
    slug_a: str
    slug_b: str


def tenant_tables(conn: psycopg.Connection[Any]) -> list[TenantTable]:
    """Every table outside the system schemas that has a tenant column."""
    rows = conn.execute(
        """
        SELECT n.nspname, c.relname, c.relkind::text, c.relispartition,
               c.relrowsecurity, c.relforcerowsecurity
          FROM pg_class AS c
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_attribute AS a ON a.attrelid = c.oid
         WHERE a.attname = %s AND NOT a.attisdropped
           AND c.relkind IN ('r', 'p')
           AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'
         ORDER BY n.nspname, c.relname
        """,
        (TENANT_COLUMN,),
    ).fetchall()
    return [TenantTable(f"{r[0]}.{r[1]}", r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def app_can(conn: psycopg.Connection[Any], table: TenantTable, privilege: str) -> bool:
    return bool(
        conn.execute(
            "SELECT has_table_privilege('app_user', %s::regclass, %s)",
            (table.qualified, privilege),
        ).fetchone()[0]  # type: ignore[index]
    )


def attempt(
    conn: psycopg.Connection[Any], statement: sql.Composable, params: tuple[Any, ...] = ()
) -> int | psycopg.Error:
    """Run a statement in a savepoint that is always rolled back: its row count, or its error."""
    conn.execute("SAVEPOINT attempt")
    try:
        return conn.execute(statement, params).rowcount
    except psycopg.Error as error:
        return error
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT attempt")


def refused_by_policy_or_privilege(outcome: int | psycopg.Error) -> bool:
    """RLS 'new row violates row-level security policy' and 'permission denied' are both 42501."""
    return isinstance(outcome, psycopg.errors.InsufficientPrivilege)


def populate_tenant(conn: psycopg.Connection[Any], slug: str) -> str:
    """One organization with a little of everything the core schemas hold; returns its id."""
    org = conn.execute(
        "INSERT INTO user_management.organizations (slug, name, plan) VALUES (%s, %s, 'team') RETURNING id",
        (slug, f"Organization {slug}"),
    ).fetchone()[0]  # type: ignore[index]

    def one(query: str, *params: Any) -> Any:
        return conn.execute(query, (org, *params)).fetchone()[0]  # type: ignore[index]

    admin = one(
        "INSERT INTO user_management.users (organization_id, email, display_name, password_hash)"
        " VALUES (%s, %s, 'Ada Admin', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA') RETURNING id",
        f"admin@{slug}.example",
    )
    learner = one(
        "INSERT INTO user_management.users (organization_id, email, display_name)"
        " VALUES (%s, %s, 'Lee Learner') RETURNING id",
        f"lee@{slug}.example",
    )
    one(
        "INSERT INTO user_management.user_roles (organization_id, user_id, role_id, granted_by)"
        " SELECT %s, %s, r.id, %s FROM user_management.roles AS r"
        " WHERE r.organization_id = %s AND r.key = 'org_admin' RETURNING id",
        admin,
        admin,
        org,
    )
    one(
        "INSERT INTO user_management.user_identities (organization_id, user_id, provider, subject)"
        " VALUES (%s, %s, 'oidc', %s) RETURNING id",
        learner,
        f"sub-{slug}",
    )
    one(
        "INSERT INTO user_management.user_sessions (organization_id, user_id, token_hash, expires_at)"
        " VALUES (%s, %s, sha256(convert_to(%s, 'UTF8')), now() + interval '1 day') RETURNING id",
        learner,
        f"token-{slug}",
    )
    one(
        "INSERT INTO user_management.login_history (organization_id, user_id, email, succeeded)"
        " VALUES (%s, %s, %s, true) RETURNING id",
        learner,
        f"lee@{slug}.example",
    )
    category = one(
        "INSERT INTO course_management.course_categories (organization_id, name, slug)"
        " VALUES (%s, 'Databases', 'databases') RETURNING id"
    )
    course = one(
        "INSERT INTO course_management.courses (organization_id, category_id, slug, title, description, status, created_by)"
        " VALUES (%s, %s, 'postgres-101', 'PostgreSQL basics', 'Tables, indexes and queries.', 'published', %s)"
        " RETURNING id",
        category,
        admin,
    )
    advanced = one(
        "INSERT INTO course_management.courses (organization_id, slug, title, status)"
        " VALUES (%s, 'postgres-201', 'PostgreSQL tuning', 'published') RETURNING id"
    )
    one(
        "INSERT INTO course_management.course_prerequisites (organization_id, course_id, prerequisite_course_id)"
        " VALUES (%s, %s, %s) RETURNING course_id",
        advanced,
        course,
    )
    one(
        "INSERT INTO course_management.course_staff (organization_id, course_id, user_id)"
        " VALUES (%s, %s, %s) RETURNING course_id",
        course,
        admin,
    )
    module = one(
        "INSERT INTO course_management.modules (organization_id, course_id, title, position)"
        " VALUES (%s, %s, 'Getting started', 0) RETURNING id",
        course,
    )
    lessons = [
        one(
            "INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            course,
            module,
            title,
            position,
        )
        for position, title in enumerate(["Installing", "First table"])
    ]
    path = one(
        "INSERT INTO course_management.learning_paths (organization_id, slug, title, status)"
        " VALUES (%s, 'dba-track', 'DBA track', 'published') RETURNING id"
    )
    one(
        "INSERT INTO course_management.learning_path_courses (organization_id, learning_path_id, course_id, position)"
        " VALUES (%s, %s, %s, 0) RETURNING course_id",
        path,
        course,
    )
    one(
        "INSERT INTO course_management.enrollments (organization_id, user_id, course_id, source, learning_path_id)"
        " VALUES (%s, %s, %s, 'learning_path', %s) RETURNING id",
        learner,
        course,
        path,
    )
    one(
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)"
        " VALUES (%s, %s, %s, %s, 'completed') RETURNING id",
        learner,
        course,
        lessons[0],
    )
    one(
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)"
        " VALUES (%s, %s, %s, %s, 'in_progress') RETURNING id",
        learner,
        course,
        lessons[1],
    )
    asset = one(
        "INSERT INTO content_management.media_assets (organization_id, kind, storage_key, mime_type, byte_size, duration_seconds, uploaded_by)"
        " VALUES (%s, 'video', %s, 'video/mp4', 1048576, 312.5, %s) RETURNING id",
        f"{slug}/intro.mp4",
        admin,
    )
    video = one(
        "INSERT INTO content_management.content_items (organization_id, content_type, title, media_asset_id, author_id)"
        " VALUES (%s, 'video', 'Welcome video', %s, %s) RETURNING id",
        asset,
        admin,
    )
    article = one(
        "INSERT INTO content_management.content_items (organization_id, content_type, title, body, author_id)"
        " VALUES (%s, 'article', 'Why PostgreSQL', '{\"markdown\": \"Because.\"}', %s) RETURNING id",
        admin,
    )
    conn.execute(
        'UPDATE content_management.content_items SET body = \'{"markdown": "Because it is good."}\' WHERE id = %s',
        (article,),
    )
    for position, item in enumerate([video, article]):
        one(
            "INSERT INTO content_management.lesson_content_items (organization_id, lesson_id, content_item_id, position)"
            " VALUES (%s, %s, %s, %s) RETURNING lesson_id",
            lessons[0],
            item,
            position,
        )
    tag = one(
        "INSERT INTO content_management.tags (organization_id, name) VALUES (%s, 'sql') RETURNING id"
    )
    one(
        "INSERT INTO content_management.content_item_tags (organization_id, content_item_id, tag_id)"
        " VALUES (%s, %s, %s) RETURNING tag_id",
        article,
        tag,
    )
    one(
        "INSERT INTO content_management.course_tags (organization_id, course_id, tag_id)"
        " VALUES (%s, %s, %s) RETURNING tag_id",
        course,
        tag,
    )
    return str(org)


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(platform_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
def tenants(conn: psycopg.Connection[Any]) -> Tenants:
    with conn.transaction():
        a = populate_tenant(conn, "tenant-a")
        b = populate_tenant(conn, "tenant-b")
    # Materialized views show what existed at their last refresh: make them hold both tenants.
    for (view,) in conn.execute(
        "SELECT format('%I.%I', schemaname, matviewname) FROM pg_matviews"
        " WHERE schemaname <> 'information_schema' AND schemaname NOT LIKE 'pg\\_%%'"
    ).fetchall():
        conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.SQL(view)))
    return Tenants(a=a, b=b, slug_a="tenant-a", slug_b="tenant-b")


def act_as_app_user(conn: psycopg.Connection[Any], organization_id: str | None) -> None:
    conn.execute("SET ROLE app_user")
    conn.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, organization_id or ""))


def count_by_tenant(
    conn: psycopg.Connection[Any], table: TenantTable, tenants: Tenants
) -> tuple[int, int, int]:
    """(rows of A, rows of B, rows of any other or no tenant) visible to the current role."""
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) FILTER (WHERE {col} = %s), count(*) FILTER (WHERE {col} = %s),"
            " count(*) FILTER (WHERE {col} IS DISTINCT FROM %s AND {col} IS DISTINCT FROM %s) FROM {t}"
        ).format(col=sql.Identifier(TENANT_COLUMN), t=table.ident),
        (tenants.a, tenants.b, tenants.a, tenants.b),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def mentions_tenant(expression: str | None) -> bool:
    return expression is not None and TENANT_SETTING in expression and TENANT_COLUMN in expression


def test_the_core_tables_are_found_in_the_catalog(conn: psycopg.Connection[Any]) -> None:
    found = {table.qualified for table in tenant_tables(conn)}
    assert found >= POPULATED_TABLES, f"tenant tables not found: {sorted(POPULATED_TABLES - found)}"


def test_every_tenant_table_forces_row_level_security_with_a_tenant_policy(
    conn: psycopg.Connection[Any],
) -> None:
    problems: list[str] = []
    for table in tenant_tables(conn):
        if table.is_partition and not any(
            app_can(conn, table, privilege)
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE")
        ):
            continue  # reached only through its parent, whose policies apply
        if not (table.rls_enabled and table.rls_forced):
            problems.append(
                f"{table.qualified}: row level security enabled={table.rls_enabled} forced={table.rls_forced}"
            )
            continue
        policies = conn.execute(
            "SELECT policyname, permissive, roles::text[], cmd, qual, with_check"
            " FROM pg_policies WHERE schemaname = %s AND tablename = %s",
            (table.schema, table.name),
        ).fetchall()
        applicable = [p for p in policies if {"public", "app_user"} & set(p[2])]
        # For each command, either a restrictive policy confines it to the tenant, or every
        # permissive policy that lets rows through does (they are OR-ed together).
        for command in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            relevant = [p for p in applicable if p[3] in (command, "ALL")]

            def guard(policy: Any, command: str = command) -> bool:
                qual, check = policy[4], policy[5]
                if command in ("SELECT", "DELETE"):
                    return mentions_tenant(qual)
                if command == "INSERT":
                    return mentions_tenant(check if check is not None else qual)
                return mentions_tenant(qual) and mentions_tenant(
                    check if check is not None else qual
                )

            restrictive = [p for p in relevant if p[1] == "RESTRICTIVE"]
            permissive = [p for p in relevant if p[1] == "PERMISSIVE"]
            if any(guard(p) for p in restrictive):
                continue
            if not permissive:
                continue  # nothing is let through at all: refused, not leaked
            loose = [p[0] for p in permissive if not guard(p)]
            if loose:
                problems.append(
                    f"{table.qualified}: {command} allowed by policies not bound to the tenant: {loose}"
                )
    assert not problems, "\n".join(problems)


def test_app_user_sees_only_its_own_tenant(conn: psycopg.Connection[Any], tenants: Tenants) -> None:
    tables = tenant_tables(conn)
    as_owner = {table.qualified: count_by_tenant(conn, table, tenants) for table in tables}
    empty_core = sorted(t for t in POPULATED_TABLES if as_owner.get(t, (0, 0, 0))[1] == 0)
    assert not empty_core, f"the fixture left these tables without rows of tenant B: {empty_core}"

    act_as_app_user(conn, tenants.a)
    problems = []
    for table in tables:
        if not app_can(conn, table, "SELECT"):
            continue
        own, other, stray = count_by_tenant(conn, table, tenants)
        if other or stray:
            problems.append(
                f"{table.qualified}: app_user in tenant A sees {other} rows of B and {stray} of no/other tenant"
            )
        # Other schemas may narrow visibility further (by user, say); the core tables do not.
        if table.qualified in POPULATED_TABLES and own != as_owner[table.qualified][0]:
            problems.append(
                f"{table.qualified}: app_user sees {own} of tenant A's {as_owner[table.qualified][0]} rows"
            )
    organizations = conn.execute("SELECT id::text FROM user_management.organizations").fetchall()
    assert organizations == [(tenants.a,)]
    assert not problems, "\n".join(problems)


def test_app_user_without_a_tenant_sees_nothing(
    conn: psycopg.Connection[Any], tenants: Tenants
) -> None:
    act_as_app_user(conn, None)
    visible = []
    for table in tenant_tables(conn):
        if table.qualified in POPULATED_TABLES:
            count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table.ident)).fetchone()[
                0
            ]  # type: ignore[index]
            if count:
                visible.append(f"{table.qualified}: {count}")
    assert conn.execute("SELECT count(*) FROM user_management.organizations").fetchone() == (0,)
    assert not visible, visible


def test_views_do_not_leak_other_tenants(conn: psycopg.Connection[Any], tenants: Tenants) -> None:
    """A view runs with its owner's rights unless security_invoker; a materialized view has no RLS at all."""
    views = conn.execute(
        """
        SELECT n.nspname, c.relname, c.relkind::text
          FROM pg_class AS c
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_attribute AS a ON a.attrelid = c.oid
         WHERE a.attname = %s AND NOT a.attisdropped AND c.relkind IN ('v', 'm')
           AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'
         ORDER BY 1, 2
        """,
        (TENANT_COLUMN,),
    ).fetchall()
    act_as_app_user(conn, tenants.a)
    leaks = []
    for schema, name, kind in views:
        readable = conn.execute(
            "SELECT has_table_privilege('app_user', format('%%I.%%I', %s::text, %s::text)::regclass, 'SELECT')",
            (schema, name),
        ).fetchone()[0]  # type: ignore[index]
        if not readable:
            continue
        other = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} IS DISTINCT FROM %s").format(
                sql.Identifier(schema, name), sql.Identifier(TENANT_COLUMN)
            ),
            (tenants.a,),
        ).fetchone()[0]  # type: ignore[index]
        if other:
            leaks.append(
                f"{schema}.{name} ({'materialized view' if kind == 'm' else 'view'}): {other} rows of other tenants"
            )
    assert not leaks, "\n".join(leaks)


def test_app_user_cannot_change_or_remove_other_tenant_rows(
    conn: psycopg.Connection[Any], tenants: Tenants
) -> None:
    tables = tenant_tables(conn)
    act_as_app_user(conn, tenants.a)
    conn.execute("BEGIN")
    problems = []
    col = sql.Identifier(TENANT_COLUMN)
    for table in tables:
        update = attempt(
            conn,
            sql.SQL("UPDATE {t} SET {col} = {col} WHERE {col} = %s").format(t=table.ident, col=col),
            (tenants.b,),
        )
        delete = attempt(
            conn,
            sql.SQL("DELETE FROM {t} WHERE {col} = %s").format(t=table.ident, col=col),
            (tenants.b,),
        )
        for verb, outcome in (("UPDATE", update), ("DELETE", delete)):
            if isinstance(outcome, int) and outcome != 0:
                problems.append(
                    f"{table.qualified}: {verb} of tenant B rows affected {outcome} rows"
                )
            elif isinstance(outcome, psycopg.Error) and not refused_by_policy_or_privilege(outcome):
                problems.append(
                    f"{table.qualified}: {verb} of tenant B rows failed unexpectedly: {outcome}"
                )
        # Moving an own row into the other tenant must be refused by the policy's WITH CHECK.
        move = attempt(
            conn,
            sql.SQL("UPDATE {t} SET {col} = %s WHERE {col} = %s").format(t=table.ident, col=col),
            (tenants.b, tenants.a),
        )
        if isinstance(move, int) and move != 0:
            problems.append(f"{table.qualified}: {move} rows of tenant A were moved to tenant B")
        elif isinstance(move, psycopg.Error) and not refused_by_policy_or_privilege(move):
            problems.append(
                f"{table.qualified}: moving rows to tenant B failed unexpectedly: {move}"
            )
    conn.execute("ROLLBACK")
    assert not problems, "\n".join(problems)


def test_app_user_cannot_insert_rows_for_another_tenant(
    conn: psycopg.Connection[Any], tenants: Tenants
) -> None:
    act_as_app_user(conn, tenants.a)
    conn.execute("BEGIN")
    problems = []
    for table in tenant_tables(conn):
        outcome = attempt(
            conn,
            sql.SQL("INSERT INTO {t} ({col}) VALUES (%s)").format(
                t=table.ident, col=sql.Identifier(TENANT_COLUMN)
            ),
            (tenants.b,),
        )
        if isinstance(outcome, int):
            problems.append(f"{table.qualified}: a row of tenant B was inserted")
        elif not refused_by_policy_or_privilege(outcome) and table.qualified in POPULATED_TABLES:
            # PostgreSQL checks the policy before NOT NULL and CHECK constraints, so for these
            # tables anything but the policy's refusal means the policy did not run first.
            problems.append(
                f"{table.qualified}: expected a row-level security refusal, got: {outcome}"
            )
    conn.execute("ROLLBACK")
    assert not problems, "\n".join(problems)


def test_complete_rows_for_another_tenant_are_refused(
    conn: psycopg.Connection[Any], tenants: Tenants
) -> None:
    """Realistic inserts, valid in every respect except the tenant, are refused by the policy."""
    b_user, b_course = conn.execute(
        "SELECT u.id, c.id FROM user_management.users AS u JOIN course_management.courses AS c"
        " ON c.organization_id = u.organization_id WHERE u.organization_id = %s AND u.email LIKE 'lee@%%'"
        " AND c.slug = 'postgres-201'",
        (tenants.b,),
    ).fetchone()  # type: ignore[misc]
    act_as_app_user(conn, tenants.a)
    conn.execute("BEGIN")
    statements = {
        "users": (
            "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%s, 'x@b.example', 'X')",
            (tenants.b,),
        ),
        "enrollments": (
            "INSERT INTO course_management.enrollments (organization_id, user_id, course_id) VALUES (%s, %s, %s)",
            (tenants.b, b_user, b_course),
        ),
        "courses": (
            "INSERT INTO course_management.courses (organization_id, slug, title) VALUES (%s, 'sneaky', 'Sneaky')",
            (tenants.b,),
        ),
        "tags": (
            "INSERT INTO content_management.tags (organization_id, name) VALUES (%s, 'sneaky')",
            (tenants.b,),
        ),
        "audit_log": (
            "INSERT INTO user_management.audit_log (organization_id, table_schema, table_name, operation, new_row)"
            " VALUES (%s, 'x', 'y', 'insert', '{}')",
            (tenants.b,),
        ),
    }
    outcomes = {
        name: attempt(conn, sql.SQL(text), params) for name, (text, params) in statements.items()
    }  # type: ignore[arg-type]
    conn.execute("ROLLBACK")
    for name, outcome in outcomes.items():
        assert isinstance(outcome, psycopg.errors.InsufficientPrivilege), (name, outcome)
        assert "row-level security" in str(outcome), (name, outcome)


def test_organization_is_found_by_slug_before_the_tenant_is_known(
    conn: psycopg.Connection[Any], tenants: Tenants
) -> None:
    conn.execute(
        "UPDATE user_management.organizations SET status = 'archived' WHERE id = %s", (tenants.b,)
    )
    act_as_app_user(conn, None)
    found = conn.execute(
        "SELECT user_management.find_organization_id(%s)::text, user_management.find_organization_id(%s),"
        " user_management.find_organization_id(%s)::text",
        ("TENANT-A", tenants.slug_b, "no-such-tenant"),
    ).fetchone()
    # Case-insensitive (citext), archived tenants hidden, unknown slugs give NULL.
    assert found == (tenants.a, None, None)
    # The lookup reveals the id and nothing else of the tenant.
    assert conn.execute("SELECT count(*) FROM user_management.organizations").fetchone() == (0,)
