"""Roles as the migrations leave them, compared with the YAML's roles as model objects.

Roles belong to the whole server, so two shadow databases on one server cannot tell what
each made of them: once the desired state has run, the server's roles are the YAML's. The
roles are therefore read right after the migrations are replayed on shadow A, and kept with
that template database (as its comment, so a cached template keeps them too). ``diff`` writes
the statements for the roles that differ; ``check`` reports them, attribute by attribute.

A warm server outlives the commands: the roles an earlier desired state, verification copy or
other history created are still there when the next history is replayed, and the migrations'
"create where missing" would then pass over a role they never create (a diff once wrote a
GRANT to a role no migration created). :func:`forget_left_over_roles` removes them first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from schemac.catalog import ModelDifference, compare_models, declared_roles_model, read_roles
from schemac.catalog.roles import roles_model
from schemac.compiler import Compiled
from schemac.errors import EnvironmentFailure
from schemac.model import Role
from schemac.naming import comment_safe, quote_ident
from schemac.shadow import PostgresServer


@dataclass(frozen=True)
class RoleSnapshot:
    """The server's roles right after the migrations ran, and which of them they created."""

    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: tuple[str, ...] = ()

    def to_text(self) -> str:
        return json.dumps({"roles": self.roles, "created": list(self.created)}, sort_keys=True)

    @classmethod
    def from_text(cls, text: str | None) -> RoleSnapshot:
        data = json.loads(text) if text else {}
        return cls(dict(data.get("roles", {})), tuple(data.get("created", ())))


def record_roles(conn: psycopg.Connection[Any], before: Iterable[str]) -> None:
    """Keep the roles the connected database's migrations left, as the database's comment."""
    roles = read_roles(conn)
    snapshot = RoleSnapshot(roles, tuple(sorted(set(roles) - set(before))))
    database = conn.execute("SELECT pg_catalog.current_database()").fetchone()
    assert database is not None
    conn.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(str(database[0])), sql.Literal(snapshot.to_text())
        )
    )


def forget_left_over_roles(server: PostgresServer) -> list[str]:
    """Drop the roles beyond the server's own (and the databases that use them) before a replay.

    Only on a project's warm server (``owns_roles``): the databases dropped are its kept
    templates and copies, rebuilt when next needed. A user's ``--dev-url`` server keeps its
    roles; there a role that existed before the migrations keeps the server's flags, as in
    production. Returns the dropped roles' names.
    """
    if not server.owns_roles:
        return []
    rows = server.fetch(
        server.maintenance_database,
        "SELECT oid, rolname FROM pg_catalog.pg_roles "
        "WHERE rolname !~ '^pg_' AND rolname <> current_user ORDER BY rolname",
    )
    if not rows:
        return []
    oids = [oid for oid, _ in rows]
    users = server.fetch(
        server.maintenance_database,
        "SELECT DISTINCT d.datname FROM pg_catalog.pg_database d "
        "LEFT JOIN pg_catalog.pg_shdepend s ON s.dbid = d.oid "
        "AND s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass "
        "WHERE (s.refobjid = ANY(%s) OR d.datdba = ANY(%s)) AND d.datname <> %s ORDER BY 1",
        (oids, oids, server.maintenance_database),
    )
    for (database,) in users:
        server.drop_database(str(database))
    with server.connect() as conn:
        for _, name in rows:
            try:
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(str(name))))
            except psycopg.Error as error:  # another command of the project made a database
                raise EnvironmentFailure(
                    f"cannot drop role {name} left on the warm shadow server by an earlier "
                    f"command: {str(error).strip()}; run it again, or `schemac shadow stop`"
                ) from None
    return [str(name) for _, name in rows]


def recorded_roles(conn: psycopg.Connection[Any], database: str) -> RoleSnapshot:
    row = conn.execute(
        "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database "
        "WHERE datname = %s",
        (database,),
    ).fetchone()
    return RoleSnapshot.from_text(row[0] if row else None)


def declared_roles(compiled: Compiled) -> list[Role]:
    return [role for _, role in compiled.project.roles]


def role_differences(
    current: dict[str, dict[str, Any]], roles: Iterable[Role]
) -> list[ModelDifference]:
    """How the roles ``current`` holds differ from the declared ``roles`` (others are ignored)."""
    declared = list(roles)
    return compare_models(
        roles_model(current, (r.name for r in declared)), declared_roles_model(declared)
    )


def role_statements(compiled: Compiled, snapshot: RoleSnapshot) -> tuple[list[str], list[str]]:
    """Statements for the declared roles the migrations do not build as declared, and notes.

    A missing role gets its block (created where it does not exist yet); a role that differs
    gets its block and an ALTER ROLE with every attribute, memberships no longer declared
    revoked. Roles the migrations created that are no longer declared are only noted: roles
    belong to the whole server, so schemac does not drop them.
    """
    declared = {role.name: role for role in declared_roles(compiled)}
    differing: dict[str, list[ModelDifference]] = {}
    for difference in role_differences(snapshot.roles, declared.values()):
        differing.setdefault(difference.name, []).append(difference)
    statements: list[str] = []
    for obj in compiled.objects:
        if obj.node.kind != "role" or obj.node.obj.name not in differing:
            continue
        role: Role = obj.node.obj
        statements.append(f"-- role {comment_safe(role.name)}\n{obj.sql.strip()}")
        current = snapshot.roles.get(role.name)
        if current is None:
            continue
        statements.append(_alter_role(role, current))
        for parent in sorted(set(current["member_of"]) - set(role.member_of)):
            statements.append(f"REVOKE {quote_ident(parent)} FROM {quote_ident(role.name)};")
    notes = [
        f"role {name} is no longer declared; roles belong to the whole server, "
        "so schemac does not drop them"
        for name in snapshot.created
        if name not in declared
    ]
    return statements, sorted(notes)


def _alter_role(role: Role, current: dict[str, Any]) -> str:
    options = [
        "LOGIN" if role.login else "NOLOGIN",
        "INHERIT" if role.inherit else "NOINHERIT",
        "BYPASSRLS" if role.bypass_rls else "NOBYPASSRLS",
        "CREATEROLE" if role.create_role else "NOCREATEROLE",
        "CREATEDB" if role.create_db else "NOCREATEDB",
        f"CONNECTION LIMIT {role.connection_limit if role.connection_limit is not None else -1}",
    ]
    if current.get("superuser"):
        options.append("NOSUPERUSER")
    if current.get("replication"):
        options.append("NOREPLICATION")
    text = f"ALTER ROLE {quote_ident(role.name)} {' '.join(options)};"
    if current.get("settings"):
        text += f"\nALTER ROLE {quote_ident(role.name)} RESET ALL;"
    if role.comment is None and current.get("comment") is not None:
        text += f"\nCOMMENT ON ROLE {quote_ident(role.name)} IS NULL;"
    return text
