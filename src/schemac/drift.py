"""Shadow databases and how two databases differ: the machinery `diff` and `check` share.

Shadow A is what Flyway would build: generated/migrations replayed in version order, each
file in its own transaction unless its ``.conf`` says ``executeInTransaction=false``.
Shadow B is what the YAML says: the desired state applied object by object, so PostgreSQL's
error points at the YAML that produced the object. Both are kept as template databases on
the shadow server, named by a digest of what built them, and cloned when a step changes one.

Two databases are compared by migra (tables, columns, constraints, indexes, views,
functions, triggers, policies, enums, extensions, table privileges), by the catalog facts
of :mod:`schemac.supplements` (everything migra leaves out) and, attribute by attribute, by
their catalog models (:mod:`schemac.catalog`): a difference neither migra nor the facts name
is still found and named. Roles are compared as model objects by :mod:`schemac.role_drift`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

from schemac import flyway
from schemac.catalog import ModelDifference, compare_models, read_catalog, read_roles
from schemac.catalog.compare import WARNING
from schemac.compiler import Compiled, RenderedObject
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.emit import MIGRATIONS_DIR
from schemac.errors import EnvironmentFailure, InvalidInput, SchemacError, UsageError, read_utf8
from schemac.project import Settings
from schemac.role_drift import RoleSnapshot, record_roles, recorded_roles
from schemac.role_drift import role_statements as role_statements  # diff and check import it here
from schemac.shadow import (
    DEV_URL_ENV,
    TEMPLATE_PREFIX,
    PostgresServer,
    ensure_template,
    open_shadow,
    prune_templates,
    redact,
)
from schemac.supplements import FactDifference, FactKey, compare_facts, read_facts
from schemac.warm import WarmUnavailable, idle_timeout, open_warm

# Bump when the way shadows are built changes, so templates kept on a dev server are rebuilt.
_SHADOW_FORMAT = "2"  # 2: shadow A keeps the roles its migrations left
# Template databases of each kind a warm server keeps (a branch switch back finds its own).
TEMPLATES_KEPT = 3

Progress = Callable[[str, float | None], None]
"""Told ``(step, None)`` when a slow step starts and ``(step, seconds)`` when it ends."""


class Steps:
    """Times the slow steps and tells a progress callback about them (the library never prints)."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str, timing_key: str | None = None) -> Iterator[None]:
        if self.progress:
            self.progress(name, None)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            if timing_key:
                self.timings[timing_key] = self.timings.get(timing_key, 0.0) + elapsed
            if self.progress:
                self.progress(name, elapsed)


# -- migration files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationScript:
    """A versioned migration of generated/migrations, as Flyway will run it."""

    name: str
    text: str
    transactional: bool
    version: tuple[int, ...]

    @property
    def relative_path(self) -> str:
        return f"{MIGRATIONS_DIR}/{self.name}"


def read_migrations(generated: Path) -> list[MigrationScript]:
    """generated/migrations in Flyway's order; names Flyway would reject are errors."""
    folder = generated / MIGRATIONS_DIR
    if not folder.is_dir():
        return []
    problems = [
        f"{MIGRATIONS_DIR}/{p.name}: not a Flyway versioned migration name (V<version>__<description>.sql)"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name.lower().endswith(".sql") and not _is_versioned(p.name)
    ]
    found = [f for f in flyway.scan_migrations(folder) if f.name.is_versioned]
    for first, second in flyway.find_version_collisions(f.name for f in found):
        problems.append(
            f"{MIGRATIONS_DIR}/{first} and {second} have the same version; Flyway refuses both"
        )
    if problems:
        raise UsageError("; ".join(problems))
    scripts = [
        MigrationScript(
            f.path.name,
            read_utf8(f.path),
            f.execute_in_transaction,
            f.name.version or (),
        )
        for f in found
    ]
    return sorted(scripts, key=lambda s: s.version)


def _is_versioned(filename: str) -> bool:
    parsed = flyway.parse_migration_name(filename)
    return parsed is not None and parsed.is_versioned


def migrations_digest(migrations: list[MigrationScript]) -> str:
    digest = hashlib.sha256(f"migrations/{_SHADOW_FORMAT}".encode())
    for script in migrations:
        digest.update(f"\0{script.name}\0{script.transactional}\0".encode())
        digest.update(script.text.encode("utf-8"))
    return digest.hexdigest()


def desired_state_digest(compiled: Compiled) -> str:
    digest = hashlib.sha256(f"desired/{_SHADOW_FORMAT}".encode())
    for obj in compiled.objects:
        digest.update(b"\0" + obj.sql.encode("utf-8"))
    return digest.hexdigest()


# -- splitting SQL --------------------------------------------------------------------------------

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def split_statements(text: str) -> list[str]:
    """Split SQL text at top-level semicolons (quotes, dollar quotes and comments respected).

    Used for non-transactional files, which Flyway also runs one statement at a time.
    Comment-only pieces are dropped. ``BEGIN ATOMIC`` bodies are not recognised: schemac
    never puts them in a non-transactional file.
    """
    statements: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif char == "/" and text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif char in "'\"":
            escaped_backslash = char == "'" and i > 0 and text[i - 1] in "eE"
            i += 1
            while i < n:
                if escaped_backslash and text[i] == "\\":
                    i += 2
                    continue
                if text[i] == char:
                    if i + 1 < n and text[i + 1] == char:
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif char == "$":
            match = _DOLLAR_TAG.match(text, i)
            if match and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                end = text.find(match.group(0), match.end())
                i = n if end < 0 else end + len(match.group(0))
            else:
                i += 1
        elif char == ";":
            statements.append(text[start : i + 1])
            start = i = i + 1
        else:
            i += 1
    statements.append(text[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(piece: str) -> bool:
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", piece, flags=re.S)
    return bool(without_comments.strip().strip(";").strip())


# -- replaying migrations (shadow A) --------------------------------------------------------------


class MigrationFailed(UsageError):
    """A migration of generated/ does not run on a fresh database."""


def _error_text(error: psycopg.Error) -> str:
    diag = error.diag
    text = diag.message_primary or str(error).strip().splitlines()[0]
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    return text


def _line_of(error: psycopg.Error, text: str) -> int | None:
    position = error.diag.statement_position
    if not position:
        return None
    return text[: int(position) - 1].count("\n") + 1


def run_script(conn: psycopg.Connection[Any], name: str, text: str, transactional: bool) -> None:
    """Run one migration file as Flyway would; raise MigrationFailed naming the file and line.

    ``conn`` must be in autocommit mode: a transactional file gets a transaction of its own,
    the statements of a non-transactional file run one by one outside any.
    """
    if transactional:
        pieces = [(text, 0)]
    else:
        pieces = []
        offset = 0
        for statement in split_statements(text):
            offset = text.find(statement, offset)
            pieces.append((statement, text[:offset].count("\n")))
    for piece, line_offset in pieces:
        try:
            if transactional:
                with conn.transaction():
                    conn.execute(piece)
            else:
                conn.execute(piece)
        except psycopg.Error as error:
            line = _line_of(error, piece)
            where = f"{MIGRATIONS_DIR}/{name}" + (f", line {line + line_offset}" if line else "")
            raise MigrationFailed(f"{where}: {_error_text(error)}") from None


def replay_migrations(url: str, migrations: list[MigrationScript]) -> None:
    with _connect(url) as conn:
        before = read_roles(conn)
        for script in migrations:
            run_script(conn, script.name, script.text, script.transactional)
        # Roles belong to the server: what the migrations made of them is kept with shadow A
        # now, before the desired state runs on the same server.
        record_roles(conn, before)


# -- the desired state (shadow B) -----------------------------------------------------------------


def _object_label(obj: RenderedObject) -> str:
    kind = obj.node.kind
    if kind == "view" and obj.node.obj.materialized:
        kind = "materialized view"
    return f"{kind} {obj.node.key.split(':', 1)[1]}"


def apply_desired_state(url: str, compiled: Compiled) -> None:
    """Create every object of the YAML; PostgreSQL's error becomes a diagnostic at the object's YAML."""
    with _connect(url) as conn:
        for obj in compiled.objects:
            try:
                conn.execute(obj.sql)
            except psycopg.Error as error:
                hint = error.diag.message_hint
                message = f"PostgreSQL rejected {_object_label(obj)}: {_error_text(error)}"
                raise InvalidInput([Diagnostic("E601", message, obj.node.loc, hint=hint)]) from None


@contextlib.contextmanager
def _connect(url: str, *, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise EnvironmentFailure(f"cannot connect to {redact(url)}: {str(error).strip()}") from None
    with conn:
        yield conn


def connect(
    url: str, *, autocommit: bool = True
) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
    """A connection to ``url``; an unreachable server is an EnvironmentFailure (exit 3)."""
    return _connect(url, autocommit=autocommit)


@dataclass(frozen=True)
class Shadows:
    """Template databases on the shadow server: A = the migrations replayed, B = the YAML."""

    server: PostgresServer
    migrations: str
    desired: str
    roles: RoleSnapshot = field(default_factory=RoleSnapshot)  # as the migrations left them


def build_shadows(
    server: PostgresServer, compiled: Compiled, migrations: list[MigrationScript], steps: Steps
) -> Shadows:
    """Shadow A and shadow B as template databases (kept between runs on a warm server).

    A is replayed before B runs: roles belong to the whole server, and A's record of the roles
    its migrations left (role_drift) must be taken before the desired state changes them. On a
    warm server with an unchanged history A is a kept template and only B is built.
    """
    import importlib
    import threading

    count = len(migrations)
    a_key = "a_" + migrations_digest(migrations)[:40]
    a_was_kept = server.database_exists(TEMPLATE_PREFIX + a_key)
    with steps.step(f"replaying {count} migration{'s' if count != 1 else ''}", "replay"):
        a = ensure_template(
            server,
            a_key,
            lambda url: replay_migrations(url, migrations),
        )
    if a_was_kept:
        # A new desired state on an old history: migra will diff them, and its import (about
        # 0.5 s of CPU) fits in the time the server spends building B.
        threading.Thread(target=importlib.import_module, args=("migra",), daemon=True).start()
    with steps.step(
        f"applying the desired state ({len(compiled.objects)} objects)", "desired_state"
    ):
        b = ensure_template(
            server,
            "b_" + desired_state_digest(compiled)[:40],
            lambda url: apply_desired_state(url, compiled),
        )
    with server.connect() as conn:
        roles = recorded_roles(conn, a)
    shadows = Shadows(server, a, b, roles)
    if server.keeps_templates:
        prune_templates(server, "a_", TEMPLATES_KEPT, used=shadows.migrations)
        prune_templates(server, "b_", TEMPLATES_KEPT, used=shadows.desired)
    return shadows


@contextlib.contextmanager
def shadow_server(
    dev_url: str | None, steps: Steps, settings: Settings | None = None
) -> Iterator[PostgresServer]:
    """The server for shadow databases: ``dev_url`` (or $SCHEMAC_DEV_URL), else the project's
    warm server (a throwaway one without ``settings`` or with $SCHEMAC_SHADOW_IDLE_SECONDS=0),
    of the project's target PostgreSQL version when its binaries are installed."""
    url = dev_url or os.environ.get(DEV_URL_ENV)
    target = settings.postgres_version if settings else None
    step = (
        f"connecting to the shadow server {redact(url)}"
        if url
        else "starting the shadow PostgreSQL server"
    )
    with contextlib.ExitStack() as stack:
        with steps.step(step, "server"):
            try:
                if url or settings is None or not idle_timeout():
                    raise WarmUnavailable("a URL names the server, or warm servers are off")
                server = stack.enter_context(open_warm(settings.root, target))
            except WarmUnavailable:
                server = stack.enter_context(open_shadow(url, target))
        if steps.progress:
            steps.progress(
                f"shadow server: {server.describe()}{_target_note(server, target)}", None
            )
        yield server


def _target_note(server: PostgresServer, target: int | None) -> str:
    if target is None or server.version // 10000 <= target:
        return ""
    return (
        f"; the migrations target PostgreSQL {target}: what it lacks is rewritten or refused "
        f"(apt-get install postgresql-{target} to diff on {target} itself)"
    )


@contextlib.contextmanager
def clone(server: PostgresServer, template: str) -> Iterator[str]:
    """A scratch copy of a template database; yields its URL and drops it afterwards."""
    name = server.create_database(template=template)
    try:
        yield server.url(name)
    finally:
        with contextlib.suppress(EnvironmentFailure):
            server.drop_database(name)


# -- comparing two databases ----------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise UsageError(f"expected a postgresql:// URL, got {redact(url)}")


def _read_only_url(url: str) -> str:
    """The URL with `-c default_transaction_read_only=on` added to any options it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = " ".join(v for k, v in query if k == "options")
    options = f"{options} -c default_transaction_read_only=on".strip()
    rest = [(k, v) for k, v in query if k != "options"]
    return urlunsplit(
        parts._replace(query=urlencode([*rest, ("options", options)], quote_via=quote))
    )


_NO_OPS = re.compile(r"^\s*set\s+check_function_bodies\s*=\s*off\s*;?\s*$", re.I)
_QUOTED_PUBLIC = re.compile(r'(\b(?:to|from)\s+)"PUBLIC"', re.I)


def migra_statements(
    from_url: str, to_url: str, *, privileges: bool = True, from_read_only: bool = False
) -> list[str]:
    """migra's statements turning ``from_url`` into ``to_url`` (each stripped, ending in ';')."""
    from migra import Migration
    from sqlbag import S

    source = sqlalchemy_url(from_url)
    if from_read_only:
        source = _read_only_url(source)
    try:
        # No connection pool: a pooled connection left open on a template database would
        # stop the next CREATE DATABASE ... TEMPLATE ("being accessed by other users").
        from sqlalchemy.pool import NullPool

        with (
            S(source, poolclass=NullPool) as from_session,
            S(sqlalchemy_url(to_url), poolclass=NullPool) as to_session,
        ):
            migration = Migration(_catalog_inspector(from_session), _catalog_inspector(to_session))
            migration.set_safety(False)
            migration.add_all_changes(privileges=privileges)
            raw = list(migration.statements)
    except Exception as error:  # SQLAlchemy wraps connection errors in its own types
        if "connect" in type(error).__name__.lower() or "OperationalError" in type(error).__name__:
            raise EnvironmentFailure(
                f"migra could not read the databases: {_first_line(error)}"
            ) from None
        raise
    statements = []
    for statement in raw:
        text = statement.strip()
        if not text or _NO_OPS.match(text):
            continue
        # migra quotes the PUBLIC pseudo-role, which PostgreSQL then looks for as a real role.
        text = _QUOTED_PUBLIC.sub(r"\1PUBLIC", text)
        statements.append(text if text.endswith(";") else text + ";")
    return statements


# schemainspect copied these filters from information_schema: they hide function bodies and
# constraints from a role that does not own the objects, although the catalog shows them to
# everyone. Without them a read-only role sees the schema as its owner does.
_OWNER_ONLY = re.compile(r"pg_has_role\(\s*[\w.]+\s*,\s*'USAGE'::text\s*\)")


def _catalog_inspector(session: Any) -> Any:
    from schemainspect.misc import connection_from_s_or_c
    from schemainspect.pg import PostgreSQL
    from sqlalchemy import text

    class CatalogInspector(PostgreSQL):  # type: ignore[misc]
        def load_all(self) -> None:
            for attribute in ("FUNCTIONS_QUERY", "CONSTRAINTS_QUERY"):
                query = getattr(self, attribute)
                setattr(self, attribute, text(_OWNER_ONLY.sub("true", query.text)))
            super().load_all()

    return CatalogInspector(connection_from_s_or_c(session))


@contextlib.contextmanager
def postgres_errors(action: str) -> Iterator[None]:
    """psycopg errors as schemac's: a lost connection is the environment (exit 3), the rest exit 2."""
    try:
        yield
    except psycopg.OperationalError as error:
        raise EnvironmentFailure(
            f"{action}: the PostgreSQL connection failed: {_first_line(error)}"
        ) from None
    except psycopg.Error as error:
        if type(error) is psycopg.ProgrammingError:
            # A connection string libpq cannot parse: its message may quote the password.
            raise EnvironmentFailure(
                f"{action}: not a valid PostgreSQL connection URL "
                "(percent-encode special characters in the user name and password)"
            ) from None
        raise SchemacError(f"{action}: unexpected PostgreSQL error: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@dataclass(frozen=True)
class Difference:
    """One way the current database differs from the desired one."""

    object: str  # e.g. "table core.users", "comment on view core.active_users"
    detail: str  # what differs: a migra statement, or the fact that differs
    statement: str | None = None  # the SQL that would fix it, when known


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    facts: list[FactDifference] = field(default_factory=list)
    # Every attribute the two catalog models differ in (errors), and what only warns
    # (a column order ALTER TABLE cannot reproduce): callers report ``warnings`` as warnings.
    model: list[ModelDifference] = field(default_factory=list)
    warnings: list[ModelDifference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
QUALIFIED_NAME = rf"({NAME}\s*\.\s*{NAME})"
_QUALIFIED = re.compile(QUALIFIED_NAME)
_STATEMENT_KIND = re.compile(
    r"^\s*(?:create(?:\s+or\s+replace)?|drop|alter|comment\s+on)\s+"
    r"(?:(?:unique|materialized|recursive|temp|temporary)\s+)*"
    r"(table|view|index|type|function|procedure|sequence|extension|schema|domain)\b",
    re.I,
)
_MEMBER_ON = re.compile(
    rf"^\s*(?:create|drop)\s+(?:or\s+replace\s+)?(?:constraint\s+)?(trigger|policy)\s+"
    rf"(?:if\s+exists\s+)?({NAME})\s.*?\bon\s+{QUALIFIED_NAME}",
    re.I | re.S,
)
_INDEX_ON = re.compile(
    rf"^\s*create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?"
    rf"({NAME})\s+on\s+(?:only\s+)?({NAME})\s*\.",
    re.I,
)
_CONSTRAINT_OF = re.compile(
    rf"^\s*alter\s+table\s+(?:only\s+)?{QUALIFIED_NAME}\s+(?:add|drop|alter|validate|"
    rf"rename)\s+constraint\s+(?:if\s+exists\s+)?({NAME})",
    re.I,
)
_GRANT_ON = re.compile(
    rf"^\s*(?:grant|revoke)\s.*?\son\s+(?:table\s+)?{QUALIFIED_NAME}", re.I | re.S
)


def unquote(name: str) -> str:
    """``"core"."users"`` or ``core.users`` as ``core.users``."""
    parts = re.findall(r'"((?:[^"]|"")+)"|([^."\s]+)', name)
    return ".".join(quoted.replace('""', '"') if quoted else plain for quoted, plain in parts)


def describe_statement(statement: str) -> str:
    """The object a migra statement is about: ``table core.users``, ``trigger touch on core.users``."""
    match = _MEMBER_ON.match(statement)
    if match:
        return f"{match.group(1).lower()} {unquote(match.group(2))} on {unquote(match.group(3))}"
    match = _INDEX_ON.match(statement)
    if match:
        return f"index {unquote(match.group(2))}.{unquote(match.group(1))}"
    match = _CONSTRAINT_OF.match(statement)
    if match:
        return f"constraint {unquote(match.group(2))} on {unquote(match.group(1))}"
    match = _GRANT_ON.match(statement)
    if match:
        return f"privileges on {unquote(match.group(1))}"
    qualified = _QUALIFIED.search(statement)
    name = unquote(qualified.group(1)) if qualified else "?"
    match = _STATEMENT_KIND.match(statement)
    kind = match.group(1).lower() if match else "object"
    if kind == "view" and re.match(r"^\s*\w+(\s+or\s+replace)?\s+materialized", statement, re.I):
        kind = "materialized view"
    if kind in ("schema", "extension"):
        bare = re.search(rf"{kind}\s+(?:if\s+(?:not\s+)?exists\s+)?({NAME})", statement, re.I)
        name = unquote(bare.group(1)) if bare else name
    return f"{kind} {name}"


def compare_databases(
    current_url: str,
    desired_url: str,
    *,
    privileges: bool = True,
    current_read_only: bool = False,
    skip_relations: tuple[str, ...] = (),
    ignore: Callable[[FactKey], bool] | None = None,
    ignore_model: Callable[[ModelDifference], bool] | None = None,
    steps: Steps | None = None,
) -> Comparison:
    """How ``current_url`` differs from ``desired_url``: migra's statements, catalog facts, then
    the catalog models attribute by attribute (``ignore_model`` drops what the caller does not
    manage, e.g. owners on a live database)."""
    steps = steps or Steps()
    with steps.step("comparing comments, privileges and options", "facts"):
        with _connect(current_url, autocommit=False) as conn:
            if current_read_only:
                conn.read_only = True
            current = read_facts(conn, skip_relations=skip_relations)
            current_model = read_catalog(conn, skip_relations=skip_relations)
            conn.rollback()
        with _connect(desired_url, autocommit=False) as conn:
            desired = read_facts(conn)
            desired_model = read_catalog(conn)
            conn.rollback()
    with steps.step("diffing with migra", "migra"):
        statements = migra_statements(
            current_url, desired_url, privileges=privileges, from_read_only=current_read_only
        )
    # Relations schemac does not manage (Flyway's history table), with their indexes and constraints.
    statements = [s for s in statements if not any(name in s for name in skip_relations)]
    facts = compare_facts(current, desired, ignore)
    result = Comparison(facts=facts)
    result.differences = [Difference(describe_statement(s), s, s) for s in statements]
    result.differences += [Difference(f.key.label, f.detail()) for f in facts]
    found = compare_models(current_model, desired_model, ignore=ignore_model)
    result.warnings = [d for d in found if d.severity == WARNING]
    result.model = [d for d in found if d.severity != WARNING]
    result.differences += _not_yet_named(result.differences, result.model)
    return result


def _not_yet_named(named: list[Difference], model: list[ModelDifference]) -> list[Difference]:
    """Model differences of objects migra and the facts did not name (theirs say more)."""
    labels = {_bare(d.object) for d in named}
    return [Difference(d.object, d.detail()) for d in model if _bare(d.object) not in labels]


def _bare(label: str) -> str:
    """An object's label without quotes and routine arguments: ``function core.f``."""
    return unquote(label.split("(", 1)[0]).strip()


# -- where an object is declared ------------------------------------------------------------------


def locate(compiled: Compiled, label: str) -> SourceLocation | None:
    """The YAML location of the object a difference names (best effort; None if not declared)."""
    names = [unquote(n) for n in _QUALIFIED.findall(label)]
    on = re.search(
        r'((?:"(?:[^"]|"")+"|[\w$]+)) on ((?:"(?:[^"]|"")+"|[\w$]+)\.(?:"(?:[^"]|"")+"|[\w$]+))',
        label,
    )
    candidates: list[str] = []
    if on:
        table = unquote(on.group(2))
        member = unquote(on.group(1))
        candidates += [
            f"policy:{table}.{member}",
            f"trigger:{table}.{member}",
            f"fk:{table}.{member}",
            f"relation:{table}",
        ]
    for name in names:
        parts = name.split(".")
        qualified = ".".join(parts[:2])
        candidates += [
            f"relation:{qualified}",
            f"type:{qualified}",
            f"index:{qualified}",
            f"function:{qualified.split('(')[0]}",
        ]
    schema = re.match(r"^(?:schema|privileges on schema|comment on schema)\s+(\S+)", label)
    if schema:
        candidates.insert(0, f"schema:{unquote(schema.group(1))}")
    by_key = {obj.node.key: obj.node.loc for obj in compiled.objects}
    for key in candidates:
        if by_key.get(key) is not None:
            return by_key[key]
    return None


# -- integrity of generated/migrations ------------------------------------------------------------


@dataclass(frozen=True)
class IntegrityProblem:
    """A migration file that no longer matches what schemac recorded when it wrote it."""

    file: str  # relative to generated/
    message: str


def integrity_problems(generated: Path) -> list[IntegrityProblem]:
    """Recorded migrations edited, deleted, renamed or renumbered; migration files never recorded."""
    from schemac.emit import INTEGRITY_FILE, read_integrity, sha256

    integrity = read_integrity(generated)
    folder = generated / MIGRATIONS_DIR
    present: dict[str, str] = {}
    if folder.is_dir():
        present = {
            p.name: read_utf8(p)
            for p in sorted(folder.iterdir())
            if p.is_file() and p.name.lower().endswith(".sql")  # Flyway takes .SQL as well
        }
    problems: list[IntegrityProblem] = []
    if integrity is None:
        if present:
            problems.append(
                IntegrityProblem(
                    INTEGRITY_FILE,
                    "is missing, but generated/migrations holds "
                    "migrations; restore it from version control",
                )
            )
        return problems
    recorded = integrity.migrations
    sums = {sha256(text): name for name, text in present.items() if name not in recorded}
    moved: set[str] = set()
    for name, entry in sorted(recorded.items()):
        path = f"{MIGRATIONS_DIR}/{name}"
        if name in present:
            conf = folder / f"{name}.conf"
            conf_sum = sha256(read_utf8(conf)) if conf.is_file() else None
            if conf_sum != entry.get("conf_sha256"):
                problems.append(
                    IntegrityProblem(
                        f"{path}.conf",
                        "was added, edited or deleted after schemac wrote the migration; it "
                        "decides whether Flyway runs the file in a transaction (restore it)",
                    )
                )
            if sha256(present[name]) != entry.get("sha256"):
                problems.append(
                    IntegrityProblem(
                        path,
                        "was edited after schemac wrote it; an applied migration "
                        "must never change (restore it and write a new one with "
                        "`schemac diff`)",
                    )
                )
            continue
        other = sums.get(str(entry.get("sha256")))
        if other is not None:
            moved.add(other)
            old, new = flyway.parse_migration_name(name), flyway.parse_migration_name(other)
            how = "renumbered" if old and new and old.description == new.description else "renamed"
            problems.append(
                IntegrityProblem(
                    f"{MIGRATIONS_DIR}/{other}",
                    f"is {name} {how}; Flyway would run it again as a new migration "
                    f"(rename it back to {name})",
                )
            )
        else:
            problems.append(
                IntegrityProblem(
                    path,
                    "was deleted; databases that applied it no longer match "
                    "generated/ (restore it from version control)",
                )
            )
    for name in sorted(set(present) - set(recorded) - moved):
        problems.append(
            IntegrityProblem(
                f"{MIGRATIONS_DIR}/{name}",
                "is not recorded in integrity.json: schemac did not write it "
                "(write migrations with `schemac diff`)",
            )
        )
    if folder.is_dir():
        for conf in sorted(folder.glob("*.sql.conf")):
            if not (folder / conf.name[: -len(".conf")]).is_file():
                problems.append(
                    IntegrityProblem(
                        f"{MIGRATIONS_DIR}/{conf.name}",
                        "belongs to no migration (its .sql file is missing)",
                    )
                )
    return problems
