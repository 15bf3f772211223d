"""`schemac diff --db URL`: the statements that bring a live database to the YAML.

A repair script for a drifted database, never a versioned migration: those stay derived from
the replayed history. The live database is only read (`pg_dump --schema-only`, which reads in
one read-only transaction, and the catalog in a READ ONLY session). Its schema is copied into
a shadow database, and the copy plays shadow A for diff's own planner (`diff.plan_migration`),
so the script is planned exactly as a migration would be. It is proven before it is shown:
the script runs on a fresh clone of the copy, block by block as it is printed, and the result
must equal the YAML's desired state (the comparison `check --db` makes, external objects left
out), else nothing is shown.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.visitors import Visitor
from psycopg import sql

from schemac import flyway
from schemac.catalog import read_roles
from schemac.compiler import Compiled, compile_project
from schemac.destructive import DestructiveChange
from schemac.diff import DiffFailed, plan_migration, slugify
from schemac.drift import (
    Progress,
    Shadows,
    Steps,
    apply_desired_state,
    clone,
    compare_databases,
    connect,
    postgres_errors,
    read_migrations,
    run_script,
    shadow_server,
)
from schemac.errors import EnvironmentFailure, UsageError
from schemac.external_shadow import after_externals, is_external, shadow_key, without_external
from schemac.naming import free_dollar_tag
from schemac.objects import statement_ref
from schemac.project import Settings
from schemac.role_drift import RoleSnapshot
from schemac.server_binaries import server_bin_dir
from schemac.shadow import PostgresServer, ensure_template, redact
from schemac.shadows import desired_state_digest


@dataclass
class ScriptBlock:
    statements: list[str]
    transactional: bool  # False: CREATE INDEX CONCURRENTLY and the like, outside a transaction


@dataclass
class LiveDiff:
    """What `schemac diff --db` found: the repair script, proven, and what it would lose."""

    blocks: list[ScriptBlock] = field(default_factory=list)
    destructive: list[DestructiveChange] = field(default_factory=list)
    refused: bool = False
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def no_difference(self) -> bool:
        return not any(b.statements for b in self.blocks)

    def script(self, shown_url: str) -> str:
        lines = [
            f"-- schemac diff --db {shown_url}",
            "-- Brings that database to the YAML. A repair script, not a migration: run it with",
            "-- psql -v ON_ERROR_STOP=1 -f <this file>; proven on a copy of its schema first.",
        ]
        for block in self.blocks:
            if not block.statements:
                continue
            body = "\n\n".join(s.rstrip().removesuffix(";") + ";" for s in block.statements)
            if block.transactional:
                lines += ["", "BEGIN;", "", body, "", "COMMIT;"]
            else:
                lines += ["", "-- outside a transaction", "", body]
        return "\n".join(lines) + "\n"


def live_diff(
    settings: Settings,
    db_url: str,
    *,
    allow_destructive: bool = False,
    dev_url: str | None = None,
    progress: Progress | None = None,
) -> LiveDiff:
    compiled = compile_project(settings)
    steps = Steps(progress)
    outcome = LiveDiff()
    with contextlib.ExitStack() as stack:
        stack.enter_context(postgres_errors("schemac diff --db"))
        servers = stack.enter_context(shadow_server(dev_url or settings.dev_url, steps, settings))
        server = servers.migrations  # the copy of the live database and its clones
        with steps.step(f"copying the schema of {redact(db_url)}", "copy"):
            dump = schema_dump(db_url)
            copy = _copy_template(server, dump, _populated_views(db_url))
        with steps.step(f"applying the desired state ({len(compiled.objects)} objects)", "desired"):
            desired = ensure_template(
                servers.desired,
                "b_" + shadow_key(desired_state_digest(compiled), compiled.project)[:40],
                after_externals(compiled.project, lambda url: apply_desired_state(url, compiled)),
            )
        try:
            shadows = Shadows(server, copy, servers.desired, desired, _live_roles(db_url))
            _plan_and_prove(compiled, shadows, outcome, allow_destructive, steps)
        finally:
            server.drop_database(copy)  # a copy of production's schema is not kept
    outcome.timings = steps.timings
    return outcome


def _plan_and_prove(
    compiled: Compiled, shadows: Shadows, outcome: LiveDiff, allow_destructive: bool, steps: Steps
) -> None:
    """diff's planner from the copy to the YAML; then the proof, unless it is refused."""
    migrations = read_migrations(compiled.settings.generated_dir)
    planned = plan_migration(
        compiled, shadows, migrations, description="repair", slug=slugify("repair"), steps=steps
    )
    outcome.notes, outcome.warnings = planned.notes, planned.warnings
    outcome.blocks = [
        ScriptBlock(_managed(f.text, compiled), f.transactional) for f in planned.files
    ]
    outcome.destructive = [
        d
        for d in planned.destructive
        if not is_external(statement_ref(d.statement), compiled.project)
    ]
    if outcome.destructive and not allow_destructive:
        outcome.refused = True
        return
    with steps.step("applying the script to a copy and comparing", "verify"):
        _prove(shadows, outcome, compiled)


def _managed(text: str, compiled: Compiled) -> list[str]:
    """A planned file's statements without those about external objects (not ours to change);
    none at all when only its timeouts (SET and RESET) would be left."""
    statements = [
        s.strip()
        for s in pglast.split(text)
        if s.strip() and not is_external(statement_ref(s), compiled.project)
    ]
    if all(_is_setting(s) for s in statements):
        return []
    return statements


def _is_setting(statement: str) -> bool:
    parsed = pglast.parse_sql(statement)
    return len(parsed) == 1 and isinstance(parsed[0].stmt, ast.VariableSetStmt)


def _prove(shadows: Shadows, outcome: LiveDiff, compiled: Compiled) -> None:
    """Run the script block by block on a fresh clone of the copy; it must then equal the YAML."""
    with clone(shadows.migrations_server, shadows.migrations) as url:
        with connect(url) as conn:
            for i, block in enumerate(outcome.blocks):
                if block.statements:
                    text = ";\n".join(s.rstrip().removesuffix(";") for s in block.statements) + ";"
                    run_script(conn, f"block {i + 1} of the script", text, block.transactional)
        comparison = without_external(compare_databases(url, shadows.desired_url), compiled.project)
    if comparison.differences:
        listing = "\n".join(
            f"  {d.object}: {' '.join(d.detail.split())[:160]}" for d in comparison.differences
        )
        raise DiffFailed(
            "after the script the copy of the database still differs from the YAML, so "
            "nothing is shown (a gap in migra or schemac; please report it):\n" + listing
        )


def schema_dump(db_url: str) -> str:
    """``pg_dump --schema-only --no-owner`` of the live database (read only), as SQL that
    psycopg can run: PostgreSQL 18's `\\restrict` guard lines dropped."""
    params = psycopg.conninfo.conninfo_to_dict(db_url)
    password = params.pop("password", None)  # through the environment, not the command line
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        environment["PGPASSWORD"] = str(password)
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})
    # pg_dump of the live server's own major version when it is installed: a newer pg_dump
    # writes settings an older server refuses when the copy is restored (PostgreSQL 18's
    # `SET transaction_timeout` on a 15 shadow); else the embedded one (18, which dumps any
    # older server).
    pg_dump = server_bin_dir(_server_major(db_url)) / "pg_dump"
    try:
        completed = subprocess.run(
            [str(pg_dump), "--schema-only", "--no-owner", "-d", conninfo],
            capture_output=True, text=True, env=environment, timeout=600, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        raise EnvironmentFailure(f"cannot run {pg_dump}: {error}") from None
    if completed.returncode != 0:
        first = (completed.stderr.strip().splitlines() or ["failed"])[-1]
        raise EnvironmentFailure(f"pg_dump of {redact(db_url)} failed: {first}")
    return "\n".join(
        line
        for line in completed.stdout.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def _server_major(db_url: str) -> int:
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        row = conn.execute("SELECT pg_catalog.current_setting('server_version_num')").fetchone()
        conn.rollback()
    return int(row[0]) // 10000 if row else 0


class _RoleNames(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_RoleSpec(self, ancestors: Any, node: ast.RoleSpec) -> None:
        if node.rolename:
            self.names.add(node.rolename)


_POPULATED = (
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND c.relispopulated ORDER BY 1, 2"
)


def _populated_views(db_url: str) -> list[tuple[str, str]]:
    """The live materialized views that hold data (a schema-only dump creates none populated)."""
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        rows = [(str(r[0]), str(r[1])) for r in conn.execute(_POPULATED).fetchall()]
        conn.rollback()
    return rows


def _refresh(conn: psycopg.Connection[Any], views: list[tuple[str, str]]) -> None:
    """REFRESH each view in the copy; one that reads an unpopulated view waits for it."""
    pending = list(views)
    while pending:
        failed = []
        for schema, name in pending:
            statement = sql.SQL("REFRESH MATERIALIZED VIEW {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.errors.ObjectNotInPrerequisiteState:
                failed.append((schema, name))
        if len(failed) == len(pending):
            raise EnvironmentFailure(f"cannot populate {failed[0][0]}.{failed[0][1]} in the copy")
        pending = failed


def _copy_template(server: PostgresServer, dump: str, populated: list[tuple[str, str]]) -> str:
    """A database on the shadow server holding the dumped schema, Flyway's history left out."""
    roles = _RoleNames()
    roles(pglast.parse_sql(dump))
    name = server.create_database()
    try:
        with connect(server.url(name)) as conn:
            existing = {row[0] for row in conn.execute("SELECT rolname FROM pg_catalog.pg_roles")}
            for role in sorted(roles.names - existing):
                # Roles belong to the server: a role the live grants name must exist here too.
                tag = free_dollar_tag(role, "schemac")
                conn.execute(
                    f"DO {tag} BEGIN CREATE ROLE " + _ident(role) + " NOLOGIN; "
                    f"EXCEPTION WHEN duplicate_object THEN NULL; END {tag}"
                )
            try:
                conn.execute(dump.encode())
            except psycopg.Error as error:
                first = (str(error).strip().splitlines() or ["error"])[0]
                raise EnvironmentFailure(
                    f"the live schema does not restore on the shadow server ({first}); an "
                    "extension it uses may be missing there: point --dev-url at a server that has it"
                ) from None
            conn.execute("SELECT pg_catalog.set_config('search_path', 'public', false)")
            _refresh(conn, populated)
            tables = conn.execute(
                "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relname = %s AND c.relkind IN ('r', 'p')",
                (flyway.DEFAULT_HISTORY_TABLE,),
            ).fetchall()
            for (schema,) in tables:
                conn.execute(
                    sql.SQL("DROP TABLE {}.{}").format(
                        sql.Identifier(schema),
                        sql.Identifier(flyway.DEFAULT_HISTORY_TABLE),
                    )
                )
    except BaseException:
        server.drop_database(name)
        raise
    return name


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _live_roles(db_url: str) -> RoleSnapshot:
    """The live server's roles, read only: the planner's starting point for declared roles."""
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        roles = read_roles(conn)
        conn.rollback()
    return RoleSnapshot(roles)


def live_diff_command(
    project: Path | None,
    db_url: str,
    output: Path | None,
    allow_destructive: bool,
    dev_url: str | None,
    progress: Progress,
) -> None:
    """The body of `schemac diff --db` (cli.py parses the options and maps errors)."""
    import typer

    from schemac.compiler import open_project

    settings = open_project(project)
    if output is not None:
        target = output.resolve()
        migrations_dir = (settings.generated_dir / "migrations").resolve()
        if target.is_relative_to(migrations_dir):
            raise UsageError(
                f"--output {output} is inside Flyway's location ({migrations_dir}): a repair "
                "script must never be taken for a migration; write it elsewhere"
            )
    outcome = live_diff(
        settings, db_url, allow_destructive=allow_destructive, dev_url=dev_url, progress=progress
    )
    for note in outcome.notes:
        typer.echo(f"note: {note}", err=True)
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if outcome.refused:
        typer.echo("refused: the script would lose data:", err=True)
        for change in outcome.destructive:
            typer.echo(f"  - {change.reason}\n      {change.statement.splitlines()[0]}", err=True)
        typer.echo("Nothing was shown. Pass --allow-destructive if the loss is intended.", err=True)
        raise typer.Exit(2)
    for change in outcome.destructive:
        typer.echo(f"warning: {change.reason} (allowed by --allow-destructive)", err=True)
    if outcome.no_difference:
        typer.echo(f"no difference: {redact(db_url)} is what the YAML declares", err=True)
        return
    script = outcome.script(redact(db_url))
    if output is None:
        typer.echo(script, nl=False)
        return
    output.write_text(script, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
