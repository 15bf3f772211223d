"""Shadow databases, the machinery `diff` and `check` share, and the connections to them.

Shadow A is what Flyway would build: generated/migrations replayed in version order
(:mod:`schemac.migrations`). Shadow B is what the YAML says: the desired state applied object
by object, so PostgreSQL's error points at the YAML that produced the object. Both are kept as
template databases on the shadow server, named by a digest of what built them, and cloned when
a step changes one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from schemac.catalog import read_roles
from schemac.clones import CLONES_AHEAD, clone_ahead, drop_clones_ahead
from schemac.compiler import Compiled, RenderedObject
from schemac.desired_patch import (
    PatchRefused,
    apply_patch,
    keep_manifest,
    manifest_of,
    manifests_folder,
    newest_source,
    patching_enabled,
    plan_patch,
)
from schemac.diagnostics import Diagnostic
from schemac.errors import EnvironmentFailure, InvalidInput, SchemacError
from schemac.external_shadow import after_externals, shadow_key
from schemac.inspections import kept_file, kept_folder
from schemac.migrations import (
    SHADOW_FORMAT,
    MigrationScript,
    error_text,
    migrations_digest,
    run_script,
)
from schemac.node_keys import key_label
from schemac.project import Settings
from schemac.role_drift import (
    RoleSnapshot,
    forget_left_over_roles,
    record_roles,
    recorded_roles,
)
from schemac.shadow import (
    DEV_URL_ENV,
    PostgresServer,
    ensure_template,
    open_shadow,
    prune_templates,
    redact,
    template_name,
)
from schemac.warm import WarmUnavailable, idle_timeout, open_warm

# Template databases of each kind a warm server keeps (a branch switch back finds its own).
TEMPLATES_KEPT = 3

Progress = Callable[[str, float | None], None]
"""Told ``(step, None)`` when a slow step starts and ``(step, seconds)`` when it ends."""


class Steps:
    """Times the slow steps and tells a progress callback about them (the library never prints)."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()  # shadow A and shadow B are built in two threads

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
                with self._lock:
                    self.timings[timing_key] = self.timings.get(timing_key, 0.0) + elapsed
            if self.progress:
                self.progress(name, elapsed)


def desired_state_digest(compiled: Compiled) -> str:
    digest = hashlib.sha256(f"desired/{SHADOW_FORMAT}".encode())
    for obj in compiled.objects:
        digest.update(b"\0" + obj.sql.encode("utf-8"))
    return digest.hexdigest()


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
    return f"{kind} {key_label(obj.node.key)}"


def apply_desired_state(url: str, compiled: Compiled) -> None:
    """Create every object of the YAML; PostgreSQL's error becomes a diagnostic at the object's YAML.

    All objects go to the server as one script in one transaction (one round trip instead of
    one per object). Only when that fails, after its rollback, are they sent one by one, so
    that the error names the object that caused it.
    """
    with _connect(url) as conn:
        script = "".join(f"{obj.sql.rstrip()}\n;\n" for obj in compiled.objects)
        try:
            with conn.transaction():
                conn.execute(script.encode("utf-8"))
            return
        except psycopg.Error:
            pass
        for obj in compiled.objects:
            try:
                conn.execute(obj.sql)
            except psycopg.Error as error:
                hint = error.diag.message_hint
                message = f"PostgreSQL rejected {_object_label(obj)}: {error_text(error)}"
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
class ShadowServers:
    """Where the shadows are built: the project's two warm servers (A and its copies on one, B
    on the other), or one server for both (a URL's, a throwaway one)."""

    migrations: PostgresServer
    desired: PostgresServer

    @property
    def apart(self) -> bool:
        return self.migrations is not self.desired


@dataclass(frozen=True)
class Shadows:
    """Template databases: A = the migrations replayed, B = the YAML, each on its server."""

    migrations_server: PostgresServer
    migrations: str
    desired_server: PostgresServer
    desired: str
    roles: RoleSnapshot = field(default_factory=RoleSnapshot)  # as the migrations left them
    # Where what is read from the templates is kept between runs (schemac.inspections).
    kept: Path | None = None

    @property
    def migrations_url(self) -> str:
        return self.migrations_server.url(self.migrations)

    @property
    def desired_url(self) -> str:
        return self.desired_server.url(self.desired)

    def kept_file(self, template: str, what: str) -> Path | None:
        """The file ``what`` ("inspection", "dump") of ``template`` is kept in, if any."""
        server = self.desired_server if template == self.desired else self.migrations_server
        return kept_file(self.kept, server.version, template, what)


def build_shadows(
    servers: ShadowServers,
    compiled: Compiled,
    migrations: list[MigrationScript],
    steps: Steps,
    *,
    planning: bool = True,
) -> Shadows:
    """Shadow A and shadow B as template databases (kept between runs on a warm server).

    On the project's two warm servers A is replayed on one while B is built on the other. On
    one server A is replayed before B runs: roles belong to the whole server, and A's record
    of the roles its migrations left (role_drift) must be taken before the desired state
    changes them. With an unchanged history A is a kept template and only B is built.

    ``planning`` (diff): migra always runs, so its import (about 0.5 s of CPU) runs in a
    thread while the servers replay and apply, and the two clones of A that diff works on
    are started as soon as A is there (:func:`schemac.clones.clone` takes them). check needs
    neither unless the shadows differ.
    """
    if planning:
        _preload("migra")
    a_server, b_server = servers.migrations, servers.desired
    if servers.apart:
        with ThreadPoolExecutor(1, thread_name_prefix="schemac-desired") as pool:
            building = pool.submit(_desired_template, b_server, compiled, steps)
            # An error of A's waits for B (the pool's exit) and is the one raised, as serially.
            a = _migrations_template(a_server, compiled, migrations, steps, planning)
            b = building.result()
    else:
        a = _migrations_template(a_server, compiled, migrations, steps, planning)
        b = _desired_template(b_server, compiled, steps)
    with a_server.connect() as conn:
        roles = recorded_roles(conn, a)
    shadows = Shadows(a_server, a, b_server, b, roles, kept_folder(compiled.settings.root))
    if a_server.keeps_templates:
        prune_templates(a_server, "a_", TEMPLATES_KEPT, used=a)
    if b_server.keeps_templates:
        prune_templates(b_server, "b_", TEMPLATES_KEPT, used=b)
    return shadows


def _migrations_template(
    server: PostgresServer,
    compiled: Compiled,
    migrations: list[MigrationScript],
    steps: Steps,
    planning: bool,
) -> str:
    """Shadow A: a kept template, else the migrations replayed; diff's clones of it started."""
    count = len(migrations)
    key = migrations_template_key(migrations, compiled.project)
    with steps.step(f"replaying {count} migration{'s' if count != 1 else ''}", "replay"):
        if not server.database_exists(template_name(key)):
            drop_clones_ahead(server)  # they may use the roles dropped next
            forget_left_over_roles(server)  # the replay starts from the server's own roles
        a = ensure_template(
            server,
            key,
            # external objects first (schemac.external_shadow), as every real database has them
            after_externals(compiled.project, lambda url: replay_migrations(url, migrations)),
        )
    if planning:
        clone_ahead(server, a, CLONES_AHEAD)
    return a


def migrations_template_key(migrations: list[MigrationScript], project: Any = None) -> str:
    """The key of shadow A's template; ``project`` None: as if it declared no external objects
    (diff clones that template ahead while the YAML still compiles)."""
    digest = migrations_digest(migrations)
    return "a_" + (digest if project is None else shadow_key(digest, project))[:40]


def _desired_template(server: PostgresServer, compiled: Compiled, steps: Steps) -> str:
    """Shadow B: a kept template, else the last one patched (schemac.desired_patch), else built
    fresh; its manifest kept for the next patch."""
    key = "b_" + shadow_key(desired_state_digest(compiled), compiled.project)[:40]
    manifest = manifest_of(compiled)
    folder = manifests_folder(compiled.settings.root)
    count = f"{len(compiled.objects)} objects"
    why_fresh = ""
    if not server.database_exists(template_name(key)) and patching_enabled():
        try:
            source, old = newest_source(server, folder)
            patch = plan_patch(source, old, manifest)
            label = f"{count}: {len(patch.creates)} re-created on a copy of the last"
            with steps.step(f"applying the desired state ({label})", "desired_state"):
                patched = ensure_template(
                    server,
                    key,
                    lambda url: apply_patch(url, patch, old, compiled),
                    start_from=source,
                )
            keep_manifest(folder, patched, manifest)
            return patched
        except (PatchRefused, EnvironmentFailure) as refused:  # a fresh build says it if it recurs
            why_fresh = f"; built fresh: {first_line(refused)}"
    with steps.step(f"applying the desired state ({count}{why_fresh})", "desired_state"):
        b = ensure_template(
            server,
            key,
            # external objects first here too (schemac.external_shadow)
            after_externals(compiled.project, lambda url: apply_desired_state(url, compiled)),
        )
    keep_manifest(folder, b, manifest)
    return b


def _preload(module: str) -> None:
    import importlib

    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


@contextlib.contextmanager
def shadow_server(
    dev_url: str | None, steps: Steps, settings: Settings | None = None
) -> Iterator[ShadowServers]:
    """The servers for shadow databases: ``dev_url``'s (or $SCHEMAC_DEV_URL's), else the
    project's two warm servers (one throwaway server without ``settings`` or with
    $SCHEMAC_SHADOW_IDLE_SECONDS=0), of the project's target PostgreSQL version when its
    binaries are installed."""
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
                servers = _open_warm_pair(stack, settings.root, target)
            except WarmUnavailable:
                server = stack.enter_context(open_shadow(url, target))
                servers = ShadowServers(server, server)
        if steps.progress:
            a, b = servers.migrations, servers.desired
            also = f"; the desired state on {b.address}" if servers.apart else ""
            steps.progress(f"shadow server: {a.describe()}{also}{_target_note(a, target)}", None)
        try:
            yield servers
        finally:
            drop_clones_ahead(servers.migrations)


def _open_warm_pair(stack: contextlib.ExitStack, root: Path, target: int | None) -> ShadowServers:
    """The project's warm servers, slot "b" opened in a thread while slot "a" opens here; each
    the project's alone (role_drift.forget_left_over_roles)."""
    with ThreadPoolExecutor(1, thread_name_prefix="schemac-warm") as pool:
        opening = pool.submit(open_warm, root, target, "b")
        try:
            migrations = stack.enter_context(open_warm(root, target, "a"))
        except BaseException:
            with contextlib.suppress(Exception):
                opening.result().close()
            raise
        desired = stack.enter_context(opening.result())
    migrations.owns_roles = desired.owns_roles = True
    return ShadowServers(migrations, desired)


def _target_note(server: PostgresServer, target: int | None) -> str:
    if target is None or server.version // 10000 <= target:
        return ""
    return (
        f"; the migrations target PostgreSQL {target}: what it lacks is rewritten or refused "
        f"(apt-get install postgresql-{target} to diff on {target} itself)"
    )


@contextlib.contextmanager
def postgres_errors(action: str) -> Iterator[None]:
    """psycopg errors as schemac's: a lost connection is the environment (exit 3), the rest exit 2."""
    try:
        yield
    except psycopg.OperationalError as error:
        raise EnvironmentFailure(
            f"{action}: the PostgreSQL connection failed: {first_line(error)}"
        ) from None
    except psycopg.Error as error:
        if type(error) is psycopg.ProgrammingError:
            # A connection string libpq cannot parse: its message may quote the password.
            raise EnvironmentFailure(
                f"{action}: not a valid PostgreSQL connection URL "
                "(percent-encode special characters in the user name and password)"
            ) from None
        raise SchemacError(f"{action}: unexpected PostgreSQL error: {first_line(error)}") from None


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
