"""Stages 1 and 2 remembered: every YAML file that loaded and passed the JSON Schema check is
kept in `.schemac/cache/` under the hash of its bytes, so the next run skips parsing and
checking it (the way mypy, ruff and dbt's partial parsing keep theirs).

An entry holds the file's data and every position in it, and nothing else: the model is still
built, analysed and rendered from scratch on every run, so an entry can only ever stand in for
the exact bytes it was made from. Its name is a hash of those bytes together with everything
that decides how they load and check (Python, PyYAML, jsonschema-rs, and the source of the
loader, of the packed format (located.py) and of the validator), so a change to any of them misses. An entry that cannot be read, fails its own
checksum or does not decode is a miss too; the cache never turns a good run into a failed one.
The folder ignores itself in git; `templates/` inside it holds Jinja's compiled templates.
SCHEMAC_NO_CACHE=1 turns both off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import jsonschema_rs
import yaml

from schemac import __version__
from schemac.loader import Document
from schemac.located import pack, unpack

CACHE_DIR = Path(".schemac") / "cache"
_SUFFIX = ".entry"
_CHECKSUM_BYTES = 32  # sha256 of the payload, in front of it
_NO_CACHE_VARIABLE = "SCHEMAC_NO_CACHE"


@cache
def _fingerprint() -> bytes:
    """What, besides a file's bytes, decides what loading and checking it gives."""
    digest = hashlib.sha256(f"{sys.version}\0{yaml.__version__}\0".encode())
    # jsonschema-rs has no version attribute, and importlib.metadata takes 0.2 s to find one;
    # the name of its dist-info folder beside it says the version.
    site = Path(jsonschema_rs.__file__).parent.parent
    digest.update(" ".join(sorted(p.name for p in site.glob("jsonschema_rs-*"))).encode())
    package = Path(__file__).parent
    for part in ("loader.py", "located.py", "validate.py", "data/schemac.schema.json"):
        try:
            digest.update((package / part).read_bytes())
        except OSError:  # installed without sources: the version has to stand for them
            digest.update(f"{part}\0{__version__}\0".encode())
    return digest.digest()


class FileCache:
    def __init__(self, project_root: Path) -> None:
        self.folder = project_root / CACHE_DIR
        self.enabled = os.environ.get(_NO_CACHE_VARIABLE, "").strip() in ("", "0")

    @staticmethod
    def key(raw: bytes) -> str:
        return hashlib.sha256(_fingerprint() + raw).hexdigest()

    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            _write_atomic(ignore, b"# schemac's cache: never committed\n*\n")

    def templates_folder(self) -> Path | None:
        """Where Jinja keeps compiled templates (None: no cache, or no place for one)."""
        if not self.enabled:
            return None
        folder = self.folder / "templates"
        try:
            self._prepare()
            folder.mkdir(exist_ok=True)
        except OSError:
            return None
        return folder

    def load(self, path: Path, key: str) -> Document | None:
        """The document of `path` as stored under `key`, or None when there is no usable entry."""
        if not self.enabled:
            return None
        try:
            stored = (self.folder / (key + _SUFFIX)).read_bytes()
        except OSError:
            return None
        checksum, payload = stored[:_CHECKSUM_BYTES], stored[_CHECKSUM_BYTES:]
        if hashlib.sha256(payload).digest() != checksum:
            return None
        try:
            return Document(path, unpack(payload, path), "")
        except (ValueError, TypeError, EOFError, KeyError, IndexError, AttributeError):
            return None

    def store(self, entries: Iterable[tuple[str, Document]], keep: set[str]) -> None:
        """Write an entry for each (key, clean document) not stored yet, then drop the entries
        of files that are no longer in the project (`keep`: the keys of all current files)."""
        if not self.enabled:
            return
        try:
            self._prepare()
            for key, document in entries:
                target = self.folder / (key + _SUFFIX)
                if target.exists():
                    continue
                payload = pack(document.data)
                if payload is not None:
                    _write_atomic(target, hashlib.sha256(payload).digest() + payload)
            for entry in self.folder.glob("*" + _SUFFIX):
                if entry.name[: -len(_SUFFIX)] not in keep:
                    entry.unlink(missing_ok=True)
        except OSError:
            return  # a read-only checkout, a full disk: the next run parses again


def _write_atomic(target: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
