"""The unprivileged system user PostgreSQL runs as when schemac runs as root (PostgreSQL
refuses to run as root), and the read access it needs to the server's installation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from schemac.errors import EnvironmentFailure

SERVICE_USER = "schemac_pg"


class ServiceAccount:
    """The unprivileged system user that runs PostgreSQL when schemac itself runs as root."""

    def __init__(self, uid: int, gid: int) -> None:
        self.uid = uid
        self.gid = gid

    @classmethod
    def for_current_process(cls) -> ServiceAccount | None:
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

    def can_reach(self, folder: Path) -> bool:
        """Whether this user may search every folder from / down to ``folder``."""
        for ancestor in [folder, *folder.parents]:
            info = ancestor.stat()
            if info.st_uid == self.uid:
                allowed = info.st_mode & 0o100
            elif info.st_gid == self.gid:
                allowed = info.st_mode & 0o010
            else:
                allowed = info.st_mode & 0o001
            if not allowed:
                return False
        return True


def grant_read_access(install_dir: Path) -> None:
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
