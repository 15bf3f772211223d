"""The audit trail (user_management.audit_log) and the content history (content_versions).

Changes are made as the application would make them: as app_user, with the tenant and the
acting user in app.current_organization_id and app.current_user_id. The trail is then read
back as the superuser, so what the application may see does not hide a missing entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row


@dataclass(frozen=True)
class Tenant:
    organization_id: Any
    admin_id: Any
    learner_id: Any


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as connection:
        yield connection


@pytest.fixture
def owner(platform_db: str) -> Iterator[psycopg.Connection[Any]]:
    """A second, superuser connection that reads the trail without row-level security."""
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as connection:
        yield connection


@pytest.fixture
def tenant(owner: psycopg.Connection[Any]) -> Tenant:
    org = owner.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES ('umbrella', 'Umbrella') RETURNING id"
    ).fetchone()["id"]  # type: ignore[index]
    admin, learner = (
        owner.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name, password_hash)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (org, email, name, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$b2xk"),
        ).fetchone()["id"]  # type: ignore[index]
        for email, name in (
            ("admin@umbrella.example", "Ada Admin"),
            ("lee@umbrella.example", "Lee Learner"),
        )
    )
    return Tenant(org, admin, learner)


def act_as(conn: psycopg.Connection[Any], tenant: Tenant, user_id: Any | None) -> None:
    conn.execute("SET ROLE app_user")
    conn.execute(
        "SELECT set_config('app.current_organization_id', %s, false)",
        (str(tenant.organization_id),),
    )
    conn.execute(
        "SELECT set_config('app.current_user_id', %s, false)", (str(user_id) if user_id else "",)
    )


def server_now(conn: psycopg.Connection[Any]) -> datetime:
    return conn.execute("SELECT clock_timestamp() AS now").fetchone()["now"]  # type: ignore[index]


def entries(
    owner: psycopg.Connection[Any], table: str, row_id: Any, operation: str | None = None
) -> list[dict[str, Any]]:
    return owner.execute(
        "SELECT * FROM user_management.audit_log"
        " WHERE table_name = %s AND row_id = %s::text AND (%s::text IS NULL OR operation::text = %s)"
        " ORDER BY id",
        (table, row_id, operation, operation),
    ).fetchall()


def test_updating_a_user_records_who_what_and_when(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.admin_id)
    before = server_now(conn)
    with conn.transaction():
        conn.execute(
            "UPDATE user_management.users SET display_name = 'Lee L.', is_active = false WHERE id = %s",
            (tenant.learner_id,),
        )
    after = server_now(conn)

    [entry] = entries(owner, "users", tenant.learner_id, "update")
    assert entry["organization_id"] == tenant.organization_id
    assert entry["actor_user_id"] == tenant.admin_id
    assert (entry["table_schema"], entry["table_name"]) == ("user_management", "users")
    assert entry["old_row"]["display_name"] == "Lee Learner"
    assert entry["new_row"]["display_name"] == "Lee L."
    assert (entry["old_row"]["is_active"], entry["new_row"]["is_active"]) == (True, False)
    assert entry["changed_columns"] == ["display_name", "is_active", "updated_at"]
    assert before <= entry["occurred_at"] <= after


def test_creating_a_user_is_recorded_with_its_automatic_role(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.admin_id)
    new_user = conn.execute(
        "INSERT INTO user_management.users (organization_id, email, display_name)"
        " VALUES (%s, 'new@umbrella.example', 'Newcomer') RETURNING id",
        (tenant.organization_id,),
    ).fetchone()["id"]  # type: ignore[index]
    [created] = entries(owner, "users", new_user, "insert")
    assert created["old_row"] is None and created["new_row"]["email"] == "new@umbrella.example"
    assert created["actor_user_id"] == tenant.admin_id
    granted = owner.execute(
        "SELECT a.actor_user_id, r.key FROM user_management.audit_log AS a"
        " JOIN user_management.roles AS r ON r.id = (a.new_row ->> 'role_id')::uuid"
        " WHERE a.table_name = 'user_roles' AND a.operation = 'insert' AND a.new_row ->> 'user_id' = %s::text",
        (new_user,),
    ).fetchall()
    assert granted == [{"actor_user_id": tenant.admin_id, "key": "learner"}]


def test_password_hashes_never_reach_the_trail(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.admin_id)
    conn.execute(
        "UPDATE user_management.users SET password_hash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$bmV3' WHERE id = %s",
        (tenant.admin_id,),
    )
    [change] = entries(owner, "users", tenant.admin_id, "update")
    assert "password_hash" in change["changed_columns"]
    every_entry = owner.execute(
        "SELECT old_row, new_row FROM user_management.audit_log WHERE table_name = 'users'"
    ).fetchall()
    assert len(every_entry) >= 3
    for row in every_entry:
        for image in (row["old_row"], row["new_row"]):
            assert image is None or "password_hash" not in image


def test_a_sign_in_alone_is_not_worth_an_entry(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.learner_id)
    conn.execute(
        "UPDATE user_management.users SET last_login_at = now() WHERE id = %s", (tenant.learner_id,)
    )
    assert entries(owner, "users", tenant.learner_id, "update") == []
    # A no-op update is not a change either.
    conn.execute(
        "UPDATE user_management.users SET display_name = display_name WHERE id = %s",
        (tenant.learner_id,),
    )
    assert entries(owner, "users", tenant.learner_id, "update") == []


def test_granting_and_revoking_roles_is_recorded(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    instructor_role = owner.execute(
        "SELECT id FROM user_management.roles WHERE organization_id = %s AND key = 'instructor'",
        (tenant.organization_id,),
    ).fetchone()["id"]  # type: ignore[index]
    act_as(conn, tenant, tenant.admin_id)
    assignment = conn.execute(
        "INSERT INTO user_management.user_roles (organization_id, user_id, role_id, granted_by)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (tenant.organization_id, tenant.learner_id, instructor_role, tenant.admin_id),
    ).fetchone()["id"]  # type: ignore[index]
    conn.execute("DELETE FROM user_management.user_roles WHERE id = %s", (assignment,))

    granted, revoked = entries(owner, "user_roles", assignment)
    assert (granted["operation"], revoked["operation"]) == ("insert", "delete")
    for entry in (granted, revoked):
        assert entry["actor_user_id"] == tenant.admin_id
        assert entry["organization_id"] == tenant.organization_id
    assert granted["new_row"]["role_id"] == str(instructor_role)
    assert granted["new_row"]["user_id"] == str(tenant.learner_id)
    assert revoked["old_row"]["role_id"] == str(instructor_role) and revoked["new_row"] is None


def test_changing_what_a_role_may_do_is_recorded(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.admin_id)
    removed = conn.execute(
        "DELETE FROM user_management.role_permissions AS rp USING user_management.roles AS r, user_management.permissions AS p"
        " WHERE rp.role_id = r.id AND rp.permission_id = p.id AND r.key = 'instructor' AND p.code = 'courses.publish'"
        " RETURNING rp.id"
    ).fetchall()
    assert len(removed) == 1
    [entry] = entries(owner, "role_permissions", removed[0]["id"], "delete")
    assert entry["actor_user_id"] == tenant.admin_id
    assert entry["old_row"]["organization_id"] == str(tenant.organization_id)


def test_changes_outside_a_user_request_have_no_actor(
    owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    owner.execute(
        "UPDATE user_management.organizations SET plan = 'enterprise' WHERE id = %s",
        (tenant.organization_id,),
    )
    [entry] = entries(owner, "organizations", tenant.organization_id, "update")
    assert entry["actor_user_id"] is None
    # The organizations table is its own tenant column.
    assert entry["organization_id"] == tenant.organization_id
    assert (entry["old_row"]["plan"], entry["new_row"]["plan"]) == ("free", "enterprise")


def test_the_application_can_add_to_the_trail_but_not_rewrite_it(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    act_as(conn, tenant, tenant.admin_id)
    conn.execute(
        "UPDATE user_management.users SET display_name = 'Ada A.' WHERE id = %s", (tenant.admin_id,)
    )
    total = owner.execute("SELECT count(*) AS n FROM user_management.audit_log").fetchone()["n"]  # type: ignore[index]
    visible = conn.execute("SELECT count(*) AS n FROM user_management.audit_log").fetchone()["n"]  # type: ignore[index]
    assert 0 < visible <= total

    assert conn.execute("UPDATE user_management.audit_log SET actor_user_id = NULL").rowcount == 0
    assert conn.execute("DELETE FROM user_management.audit_log").rowcount == 0
    conn.execute(
        "INSERT INTO user_management.audit_log (organization_id, actor_user_id, table_schema, table_name, operation, row_id, new_row)"
        " VALUES (%s, %s, 'user_management', 'users', 'insert', 'export', '{\"note\": \"data export requested\"}')",
        (tenant.organization_id, tenant.admin_id),
    )
    assert (
        owner.execute("SELECT count(*) AS n FROM user_management.audit_log").fetchone()["n"]
        == total + 1
    )  # type: ignore[index]


def test_content_edits_keep_the_previous_version(
    conn: psycopg.Connection[Any], owner: psycopg.Connection[Any], tenant: Tenant
) -> None:
    article = owner.execute(
        "INSERT INTO content_management.content_items (organization_id, content_type, title, body, author_id)"
        " VALUES (%s, 'article', 'Indexes', '{\"markdown\": \"B-trees.\"}', %s) RETURNING id",
        (tenant.organization_id, tenant.admin_id),
    ).fetchone()["id"]  # type: ignore[index]
    act_as(conn, tenant, tenant.learner_id)
    edit = "UPDATE content_management.content_items SET {} WHERE id = %s"
    conn.execute(edit.format('body = \'{"markdown": "B-trees and GIN."}\''), (article,))
    conn.execute(edit.format("status = 'published'"), (article,))  # not a new revision
    conn.execute(
        edit.format("title = 'Indexes in depth', version = 42"), (article,)
    )  # version is not the caller's

    item = conn.execute(
        "SELECT version, title, body, status::text, published_at FROM content_management.content_items WHERE id = %s",
        (article,),
    ).fetchone()
    assert item is not None
    assert (item["version"], item["title"], item["status"]) == (3, "Indexes in depth", "published")
    assert item["published_at"] is not None
    history = owner.execute(
        "SELECT version, title, body ->> 'markdown' AS markdown, status::text, superseded_by, organization_id"
        " FROM content_management.content_versions WHERE content_item_id = %s ORDER BY version",
        (article,),
    ).fetchall()
    assert [(h["version"], h["title"], h["markdown"], h["status"]) for h in history] == [
        (1, "Indexes", "B-trees.", "draft"),
        (2, "Indexes", "B-trees and GIN.", "published"),
    ]
    assert {h["superseded_by"] for h in history} == {tenant.learner_id}
    assert {h["organization_id"] for h in history} == {tenant.organization_id}
    # The history is the application's to read, not to rewrite.
    assert (
        conn.execute("UPDATE content_management.content_versions SET title = 'forged'").rowcount
        == 0
    )
    assert conn.execute("DELETE FROM content_management.content_versions").rowcount == 0
    assert len(conn.execute("SELECT 1 FROM content_management.content_versions").fetchall()) == 2
    # Search reads the current revision.
    found = conn.execute(
        "SELECT content_item_id FROM content_management.search_content('gin')"
    ).fetchall()
    assert found == [{"content_item_id": article}]
