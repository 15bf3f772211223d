"""The project's warm shadow servers: started by the first command that needs them, then reused.

A project has two, one per slot: "a" replays the migrations (shadow A and its copies) and "b"
builds the desired state (shadow B), so that both build at the same time without sharing the
server-wide roles (schemac.role_drift). Everything of a slot lives in
``.schemac/shadow/<key>-<slot>/`` of the project (``<key>``: a digest of the project's real
path, so a copied or moved project never finds another one's server):

    server.json   port, superuser password (random, SCRAM), pid, binaries, version; mode 0600
    cluster/      the data directory and server log (owned by the service account when root;
                  in the temporary folder instead when that account cannot reach the project),
                  unless they live in the user's memory folder as ``<key>-<slot>/``
                  (schemac.memory_folder: a database copy there costs a fraction)
    start.lock    held (fcntl) while a command checks, starts or replaces the server
    use.lock      held shared by every command while it uses the server
    last-used     touched when a command takes and returns the server: the idle clock

A server that is not what server.json says (postmaster gone, its pid reused, the password
refused, another major version wanted, no server.json for a data directory) is replaced
without asking. The guardian (schemac/_guardian.py, mode ``idle``) stops a server once it has
been idle for ``$SCHEMAC_SHADOW_IDLE_SECONDS`` (default 15 minutes); data on the disk stays,
so the next command restarts it with its template databases, data in memory is removed. ``schemac shadow stop`` stops both and
removes their folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from schemac.cluster import DEV_URL_ENV, SUPERUSER, Cluster, runs_on, start_guardian
from schemac.errors import EnvironmentFailure, UsageError
from schemac.memory_folder import memory_folder
from schemac.server_binaries import bin_major, server_bin_dir
from schemac.service_account import ServiceAccount

# schemac.shadow (psycopg, 0.1 s of imports) is imported where a server is connected to, so
# that `warm_up` starts initdb first and the import runs while it works.
if TYPE_CHECKING:
    from schemac.shadow import PostgresServer

IDLE_SECONDS_ENV = "SCHEMAC_SHADOW_IDLE_SECONDS"
DEFAULT_IDLE_SECONDS = 900.0
SHADOW_DIR = Path(".schemac") / "shadow"
_STATE_FILE = "server.json"
_LOCK_TIMEOUT_SECONDS = 120
# "a": the migrations replayed (shadow A, its copies); "b": the desired state (shadow B).
SLOTS = ("a", "b")


class WarmUnavailable(EnvironmentFailure):
    """The project folder cannot hold a warm server (read only): a throwaway one must do."""


@dataclass(frozen=True)
class ServerState:
    """What server.json records about the project's warm server."""

    pid: int
    port: int
    password: str
    bin_dir: str
    version: str  # server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"
    cluster: str  # the folder holding data/ and server.log
    project: str
    started: float  # time.time()
    idle_timeout: float

    @property
    def data_dir(self) -> Path:
        return Path(self.cluster) / "data"

    def url(self, dbname: str = "postgres") -> str:
        login = f"{SUPERUSER}:{quote(self.password, safe='')}"
        return f"postgresql://{login}@127.0.0.1:{self.port}/{dbname}?connect_timeout=5"


@dataclass(frozen=True)
class WarmStatus:
    """``schemac shadow status``: what runs for the project."""

    running: bool
    version: str
    port: int
    data_dir: Path
    idle_seconds: float
    idle_timeout: float
    pid: int
    started: float


def idle_timeout() -> float:
    """Seconds of idleness before the warm server stops; 0 turns warm servers off."""
    text = os.environ.get(IDLE_SECONDS_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_SECONDS
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{IDLE_SECONDS_ENV} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise UsageError(f"{IDLE_SECONDS_ENV} must not be negative")
    return value


def state_folder(project_root: Path, slot: str = "a") -> Path:
    """The folder of the project's warm server in ``slot`` (one of SLOTS); ``slot`` "": the
    one folder of the single server schemac kept before it had two (stopped by stop_warm)."""
    assert slot in (*SLOTS, ""), slot
    real = project_root.resolve()
    key = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    return real / SHADOW_DIR / (f"{key}-{slot}" if slot else key)


# -- taking the server ----------------------------------------------------------------------------


def open_warm(project_root: Path, major: int | None, slot: str = "a") -> PostgresServer:
    """The project's warm server in ``slot`` running PostgreSQL ``major`` (if installed),
    started if needed.

    The returned server's ``close()`` gives it back (it keeps running). Raises
    EnvironmentFailure when no server can be started.
    """
    folder = state_folder(project_root, slot)
    _prepare(folder)
    bin_dir = server_bin_dir(major)
    with _locked(folder / "start.lock", fcntl.LOCK_EX):
        state = _read_state(folder)
        server = _healthy(state, bin_dir) if state is not None else None
        how = "warm"
        if server is None:
            state, server = _replace(folder, bin_dir, state, project_root)
            how = "warm, just started"
        # Taken before start.lock is let go, so the guardian cannot stop it in between.
        use_lock = _lock(folder / "use.lock", fcntl.LOCK_SH)
    assert state is not None
    _touch(folder / "last-used")
    up = _duration(time.time() - state.started)
    server.description = how if how != "warm" else f"warm, up {up}"

    def give_back() -> None:
        _touch(folder / "last-used")
        os.close(use_lock)

    server._on_close = give_back
    server.keeps_templates = True
    server.copies_files = True
    return server


def warm_up(
    project_root: Path, major: int | None, dev_url: str | None, slots: tuple[str, ...] = SLOTS
) -> None:
    """Start (or check) the project's warm servers in ``slots`` in background threads, while
    the caller compiles: the command that needs them next finds them up. Nothing when a URL
    names the server or warm servers are off. Failures are left for that command to report."""
    if dev_url or os.environ.get(DEV_URL_ENV) or not idle_timeout():
        return

    def start(slot: str) -> None:
        with contextlib.suppress(Exception), open_warm(project_root, major, slot):
            pass

    for slot in slots:
        threading.Thread(target=start, args=(slot,), name="schemac-warm-up", daemon=True).start()


def _healthy(state: ServerState, bin_dir: Path) -> PostgresServer | None:
    if state.bin_dir != str(bin_dir) or not runs_on(state.pid, state.data_dir):
        return None
    try:
        return _connect(state)
    except EnvironmentFailure:  # the password refused, the port not answering
        return None


def _connect(state: ServerState) -> PostgresServer:
    """A connection that proves the server up and the password right; the one query also
    gives both forms of the version, so nothing connects again only to print it."""
    from schemac.shadow import PostgresServer

    server = PostgresServer(state.url())
    ((number, text),) = server.fetch(
        server.maintenance_database,
        "SELECT current_setting('server_version_num')::int, current_setting('server_version')",
    )
    server._version, server._version_text = int(number), str(text)
    return server


def _replace(
    folder: Path, bin_dir: Path, old: ServerState | None, project_root: Path
) -> tuple[ServerState, PostgresServer]:
    """Stop whatever runs on the project's cluster, then start a server (on the old data if it fits)."""
    account = ServiceAccount.for_current_process()
    root, in_memory = _cluster_root(folder, account)
    cluster = Cluster(bin_dir, root, unix_socket=False)
    if old is not None:
        Cluster(Path(old.bin_dir), Path(old.cluster), unix_socket=False).stop()
    cluster.stop()  # a postmaster left without a server.json: nobody knows its password
    reusable = (
        old is not None
        and old.cluster == str(cluster.root)
        and cluster.data_major() == bin_major(bin_dir)
    )
    password = old.password if old is not None and reusable else secrets.token_urlsafe(24)
    try:
        if not reusable:
            raise EnvironmentFailure("no data directory to reuse")
        cluster.start()
    except EnvironmentFailure:
        # No data directory of this version with a known password (or it would not start,
        # e.g. after a crash): begin again from initdb.
        shutil.rmtree(cluster.root, ignore_errors=True)
        cluster.root.mkdir(mode=0o700, parents=True)
        cluster.prepare()
        password = secrets.token_urlsafe(24)
        cluster.initdb(password)
        cluster.start()
    timeout = idle_timeout()
    state = ServerState(
        pid=cluster.postmaster_pid,
        port=cluster.port,
        password=password,
        bin_dir=str(bin_dir),
        version="",
        cluster=str(cluster.root),
        project=str(project_root.resolve()),
        started=time.time(),
        idle_timeout=timeout,
    )
    server = _connect(state)
    state = ServerState(**{**asdict(state), "version": server.version_text})
    _write_state(folder, state)
    _touch(folder / "last-used")
    at_idle = "remove" if in_memory else "keep"  # the data: memory is given back
    start_guardian(
        "idle", str(folder), str(cluster.data_dir), str(state.pid), str(timeout), at_idle
    )
    return state, server


def _cluster_root(folder: Path, account: ServiceAccount | None) -> tuple[Path, bool]:
    """(where the cluster lives, whether in memory): the user's memory folder when there is
    one (schemac.memory_folder), else ``folder/cluster``, unless the service account cannot
    reach it (a private home folder)."""
    memory = memory_folder(account)
    if memory is not None:
        return memory / folder.name, True
    if account is None or account.can_reach(folder):
        return folder / "cluster", False
    return Path(tempfile.gettempdir()) / f"schemac-shadow-{folder.name}", False


# -- status and stop ------------------------------------------------------------------------------


def warm_status(project_root: Path, slot: str = "a") -> WarmStatus | None:
    """What server.json of ``slot`` says and whether that postmaster runs; None if none was
    ever started."""
    folder = state_folder(project_root, slot)
    state = _read_state(folder)
    if state is None:
        return None
    try:
        idle = time.time() - (folder / "last-used").stat().st_mtime
    except OSError:
        idle = time.time() - state.started
    return WarmStatus(
        running=runs_on(state.pid, state.data_dir),
        version=state.version,
        port=state.port,
        data_dir=state.data_dir,
        idle_seconds=idle,
        idle_timeout=state.idle_timeout,
        pid=state.pid,
        started=state.started,
    )


def stop_warm(project_root: Path) -> list[WarmStatus]:
    """Stop the project's warm servers and remove their files; what they were (none: no server
    was ever started)."""
    stopped = []
    for slot in (*SLOTS, ""):
        folder = state_folder(project_root, slot)
        if not folder.is_dir():
            continue
        with _locked(folder / "start.lock", fcntl.LOCK_EX):
            before = warm_status(project_root, slot)
            state = _read_state(folder)
            if state is not None:
                Cluster(Path(state.bin_dir), Path(state.cluster), unix_socket=False).stop()
                shutil.rmtree(state.cluster, ignore_errors=True)
            for name in (_STATE_FILE, "last-used"):
                (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "cluster", ignore_errors=True)
        stopped += [before] if before is not None else []
    return stopped


# -- files ----------------------------------------------------------------------------------------


def _prepare(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if ServiceAccount.for_current_process() is not None:
            # The server's user must pass through to cluster/; the files here stay 0600.
            folder.chmod(0o711)
        ignore = folder.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# schemac's warm shadow server: never committed\n*\n")
    except OSError as error:
        raise WarmUnavailable(f"cannot create {folder} for the shadow server: {error}") from None


def _read_state(folder: Path) -> ServerState | None:
    try:
        data = json.loads((folder / _STATE_FILE).read_text(encoding="utf-8"))
        return ServerState(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(folder: Path, state: ServerState) -> None:
    """Atomically, and readable by this user only: it holds the superuser's password."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".server-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp's file mode is 0600
            json.dump(asdict(state), out, indent=2)
        os.replace(temporary, folder / _STATE_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.touch(mode=0o600)
        os.utime(path)


def _lock(path: Path, operation: int) -> int:
    """An fcntl lock on ``path`` (waiting at most a couple of minutes); its file descriptor."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + _LOCK_TIMEOUT_SECONDS
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise EnvironmentFailure(
                    f"another schemac command has held {path} for {_LOCK_TIMEOUT_SECONDS} s"
                ) from None
            time.sleep(0.02)


@contextlib.contextmanager
def _locked(path: Path, operation: int) -> Iterator[None]:
    fd = _lock(path, operation)
    try:
        yield
    finally:
        os.close(fd)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
