"""Where shadow servers keep their data: a memory file system when the machine has one with room.

A shadow's data is thrown away or rebuilt at will and its server runs with fsync off, so a disk
buys it nothing, while a database copy (CREATE DATABASE ... TEMPLATE, each clone of shadow A)
creates one file per relation. Measured on this project's 2-core VM (ext4): creating 7,000 empty
files takes 3.5 s of system time on the disk and 0.05 s in /dev/shm; a copy of a 1,000-table
database (7,303 files) 1.1-3.7 s on the disk. `make bench` measures the difference
(``$SCHEMAC_SHADOW_ON_DISK=1`` keeps the data on the disk, as before).

The candidates, first that fits: ``$XDG_RUNTIME_DIR/schemac`` (the user's runtime folder, a
memory file system under systemd) and ``/dev/shm/schemac-<uid>``. One fits when it is a real
folder of this user that nobody else may write, and its file system has MIN_FREE_BYTES free
(a container's 64 MB /dev/shm does not); otherwise the data stays on the disk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from schemac.service_account import ServiceAccount

ON_DISK_ENV = "SCHEMAC_SHADOW_ON_DISK"
MIN_FREE_BYTES = 1 << 30
_SHARED_MEMORY = Path("/dev/shm")


def memory_folder(account: ServiceAccount | None) -> Path | None:
    """This user's folder on a memory file system with room, created if needed (mode 0700;
    0711 when the server runs as the service ``account``, which must pass through it, and
    only where it can); None when there is none or ``$SCHEMAC_SHADOW_ON_DISK`` is set."""
    if os.environ.get(ON_DISK_ENV, "").strip() not in ("", "0"):
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    candidates = [Path(runtime) / "schemac"] if runtime else []
    candidates.append(_SHARED_MEMORY / f"schemac-{os.getuid()}")
    for folder in candidates:
        mode = 0o700 if account is None else 0o711
        if _usable(folder, mode) and (account is None or account.can_reach(folder)):
            return folder
    return None


def _usable(folder: Path, mode: int) -> bool:
    if not folder.parent.is_dir():
        return False
    try:
        free = os.statvfs(folder.parent)
        if free.f_bavail * free.f_frsize < MIN_FREE_BYTES:
            return False
        folder.mkdir(mode=mode, exist_ok=True)
        info = folder.lstat()
        # In /dev/shm anyone may create this name first: only a folder of ours counts.
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        if stat.S_IMODE(info.st_mode) != mode:
            folder.chmod(mode)
    except OSError:
        return False
    return True
