"""Stages 1 and 2 remembered: every YAML file that loaded and passed the JSON Schema check is
kept in `.schemac/cache/` under the hash of its bytes, so the next run skips parsing and
checking it (the way mypy, ruff and dbt's partial parsing keep theirs).

An entry holds the file's data and every position in it, and nothing else: the model is still
built, analysed and rendered from scratch on every run, so an entry can only ever stand in for
the exact bytes it was made from. Its name is a hash of those bytes together with everything
that decides how they load (this format, Python, PyYAML, and the source of the loader and the
validator), so a change to any of them misses. An entry that cannot be read, fails its own
checksum or does not decode is a miss too; the cache never turns a good run into a failed one.
The folder ignores itself in git; `templates/` inside it holds Jinja's compiled templates.
SCHEMAC_NO_CACHE=1 turns both off.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from schemac import __version__
from schemac.loader import Document, LocatedDict, LocatedList

FORMAT = 1
CACHE_DIR = Path(".schemac") / "cache"
_SUFFIX = ".entry"
_CHECKSUM_BYTES = 32  # sha256 of the payload, in front of it
_NO_CACHE_VARIABLE = "SCHEMAC_NO_CACHE"


@cache
def _fingerprint() -> bytes:
    """What, besides a file's bytes, decides what loading and checking it gives."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{yaml.__version__}\0".encode())
    package = Path(__file__).parent
    for part in ("loader.py", "validate.py", "fastvalidate.py", "data/schemac.schema.json"):
        try:
            digest.update((package / part).read_bytes())
        except OSError:  # installed without sources: the version has to stand for them
            digest.update(f"{part}\0{__version__}\0".encode())
    return digest.digest()


class _Uncacheable(Exception):
    """A value only YAML's rarer tags produce (binary, sets): such a file is not cached."""


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


def pack(data: Any) -> bytes | None:
    """A loaded document's data and positions as bytes (None: a value the format cannot hold).
    Also how a second core hands the files it parsed to the first."""
    try:
        return marshal.dumps((FORMAT, _encode(data, {})))
    except _Uncacheable:
        return None


def unpack(payload: bytes, path: Path) -> Any:
    """What `pack` packed, as LocatedDict/LocatedList again (positions worked out on use)."""
    version, encoded = marshal.loads(payload)
    if version != FORMAT:
        raise ValueError(f"cache format {version}, not {FORMAT}")
    return _decode(encoded, path, {})


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


# A mapping is ("m", {key: value}, positions), a sequence ("l", [items], positions); scalars stay
# as they are (YAML never gives a tuple). Positions are flat ints: the container's line and
# column, then per key its line, column and its value's line, column (per item: line, column).
# A container reached twice through a YAML alias is encoded once and decoded once.


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any, memo: dict[int, Any]) -> Any:
    if type(value) in _SCALAR_TYPES:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    if isinstance(value, LocatedDict):
        done = memo[id(value)] = ("m", *_encode_mapping(value, memo))
        return done
    if isinstance(value, LocatedList):
        done = memo[id(value)] = ("l", *_encode_sequence(value, memo))
        return done
    raise _Uncacheable(type(value).__name__)


def _encode_mapping(value: LocatedDict, memo: dict[int, Any]) -> tuple[Any, tuple[int, ...]]:
    body: dict[str, Any] = {}
    unpacked = value.__dict__.get("_positions")
    if unpacked is not None:  # unpacked from bytes and never asked for a position since
        for key, item in value.items():
            body[key] = item if type(item) in _SCALAR_TYPES else _encode(item, memo)
        return body, unpacked[1]
    source = value.__dict__.get("_source")
    if source is not None and source[2] is None and len(source[1].value) == len(value):
        # Positions never asked for are still in the YAML node: read them from its marks, in
        # the same order as the keys (a cached file has no duplicate or merged keys).
        node = source[1]
        positions = [node.start_mark.line + 1, node.start_mark.column + 1]
        for (key_node, value_node), (key, item) in zip(node.value, value.items(), strict=True):
            k, v = key_node.start_mark, value_node.start_mark
            positions += (k.line + 1, k.column + 1, v.line + 1, v.column + 1)
            body[key] = item if type(item) in _SCALAR_TYPES else _encode(item, memo)
        return body, tuple(positions)
    location = value.location
    keys, values = value.key_locations, value.value_locations
    positions = [location.line, location.column]
    for key, item in value.items():
        body[key] = _encode(item, memo)
        k, v = keys[key], values[key]
        positions += (k.line, k.column, v.line, v.column)
    return body, tuple(positions)


def _encode_sequence(value: LocatedList, memo: dict[int, Any]) -> tuple[Any, tuple[int, ...]]:
    unpacked = value.__dict__.get("_positions")
    source = value.__dict__.get("_source")
    if unpacked is not None:
        positions = list(unpacked[1])
    elif source is not None:
        node = source[1]
        positions = [node.start_mark.line + 1, node.start_mark.column + 1]
        for child in node.value:
            positions += (child.start_mark.line + 1, child.start_mark.column + 1)
    else:
        positions = [value.location.line, value.location.column]
        for item_location in value.item_locations:
            positions += (item_location.line, item_location.column)
    return [_encode(item, memo) for item in value], tuple(positions)


def _decode(encoded: Any, path: Path, memo: dict[int, Any]) -> Any:
    if type(encoded) is not tuple:
        return encoded
    done = memo.get(id(encoded))
    if done is not None:
        return done
    kind, body, positions = encoded
    if kind not in ("m", "l") or len(positions) != 2 + (4 if kind == "m" else 2) * len(body):
        raise ValueError("a cache entry of the wrong shape")  # load() then parses the file
    if kind == "m":
        mapping = memo[id(encoded)] = LocatedDict()
        for key, item in body.items():
            mapping[key] = _decode(item, path, memo) if type(item) is tuple else item
        mapping._positions = (path, positions)
        return mapping
    sequence = memo[id(encoded)] = LocatedList(
        _decode(item, path, memo) if type(item) is tuple else item for item in body
    )
    sequence._positions = (path, positions)
    return sequence
