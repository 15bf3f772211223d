"""Loaded YAML containers that know where they came from, and their packed form.

`LocatedDict` and `LocatedList` are the dict and list the loader (loader.py) builds: each
remembers the file, line and column of itself and of every key, value and item, worked out
on first use. `pack` and `unpack` turn a loaded document into bytes and back, positions
included, for the file cache (filecache.py) to store; the format reads what the containers
keep until a position is asked for (the YAML node, or the flat positions of an unpacked
one), so it lives beside them.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

import yaml

from schemac.diagnostics import SourceLocation

# SourceLocation(...) runs a Python-level __new__; tuple.__new__ builds the same named tuple in C.
_new_location = tuple.__new__


_MAPPING_POSITIONS = frozenset({"location", "key_locations", "value_locations"})
_SEQUENCE_POSITIONS = frozenset({"location", "item_locations"})


class LocatedDict(dict[str, Any]):
    """A mapping that knows where it, its keys and its values are in the source.

    Most positions are never asked for (only objects and errors need one), so the loader
    leaves the YAML node behind (or the file cache its flat list of positions) and the
    positions are worked out on first use.
    """

    location: SourceLocation
    key_locations: dict[str, SourceLocation]
    value_locations: dict[str, SourceLocation]
    _source: tuple[Path, yaml.MappingNode, dict[int, str] | None]
    _positions: tuple[Path, tuple[int, ...]]

    def __getattr__(self, name: str) -> Any:  # only called while an attribute is unset
        attributes = self.__dict__
        if name not in _MAPPING_POSITIONS:  # copy, pickle and friends probe for hooks
            raise AttributeError(name)
        if "_source" in attributes:
            self._locate_from_node(*attributes.pop("_source"))
        elif "_positions" in attributes:
            self._locate_from_positions(*attributes.pop("_positions"))
        else:
            raise AttributeError(name)
        return attributes[name]

    def _locate_from_node(
        self, path: Path, node: yaml.MappingNode, odd_keys: dict[int, str] | None
    ) -> None:
        mark = node.start_mark
        self.location = _new_location(SourceLocation, (path, mark.line + 1, mark.column + 1))
        key_locations: dict[str, SourceLocation] = {}
        value_locations: dict[str, SourceLocation] = {}
        for key_node, value_node in node.value:
            key = key_node.value if odd_keys is None else odd_keys.get(id(key_node), key_node.value)
            if key not in key_locations:  # of two equal keys the first is kept
                mark = key_node.start_mark
                key_locations[key] = _new_location(
                    SourceLocation, (path, mark.line + 1, mark.column + 1)
                )
                mark = value_node.start_mark
                value_locations[key] = _new_location(
                    SourceLocation, (path, mark.line + 1, mark.column + 1)
                )
        self.key_locations = key_locations
        self.value_locations = value_locations

    def _locate_from_positions(self, path: Path, positions: tuple[int, ...]) -> None:
        self.location = _new_location(SourceLocation, (path, positions[0], positions[1]))
        key_locations: dict[str, SourceLocation] = {}
        value_locations: dict[str, SourceLocation] = {}
        for i, key in enumerate(self):
            at = 2 + 4 * i
            key_locations[key] = _new_location(
                SourceLocation, (path, positions[at], positions[at + 1])
            )
            value_locations[key] = _new_location(
                SourceLocation, (path, positions[at + 2], positions[at + 3])
            )
        self.key_locations = key_locations
        self.value_locations = value_locations


class LocatedList(list[Any]):
    """A sequence that knows where it and each item are in the source (worked out on first use)."""

    location: SourceLocation
    item_locations: list[SourceLocation]
    _source: tuple[Path, yaml.SequenceNode]
    _positions: tuple[Path, tuple[int, ...]]

    def __getattr__(self, name: str) -> Any:  # only called while an attribute is unset
        attributes = self.__dict__
        if name not in _SEQUENCE_POSITIONS:
            raise AttributeError(name)
        if "_source" in attributes:
            path, node = attributes.pop("_source")
            positions = [node.start_mark.line + 1, node.start_mark.column + 1]
            for child in node.value:
                positions += (child.start_mark.line + 1, child.start_mark.column + 1)
        elif "_positions" in attributes:
            path, positions = attributes.pop("_positions")
        else:
            raise AttributeError(name)
        self.location = _new_location(SourceLocation, (path, positions[0], positions[1]))
        self.item_locations = [
            _new_location(SourceLocation, (path, positions[at], positions[at + 1]))
            for at in range(2, len(positions), 2)
        ]
        return attributes[name]


# The packed form of a loaded document, which the file cache (filecache.py) stores: marshal of
# nested tuples. A mapping is ("m", {key: value}, positions), a sequence ("l", [items],
# positions); scalars stay as they are (YAML never gives a tuple). Positions are flat ints: the
# container's line and column, then per key its line, column and its value's line, column (per
# item: line, column). A container reached twice through a YAML alias is packed once.
_PACKED_FORMAT = 1
_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


class _Unpackable(Exception):
    """A value only YAML's rarer tags produce (binary, sets)."""


def pack(data: Any) -> bytes | None:
    """A loaded document's data and positions as bytes (None: a value the format cannot hold)."""
    try:
        return marshal.dumps((_PACKED_FORMAT, _packed(data, {})))
    except _Unpackable:
        return None


def unpack(payload: bytes, path: Path) -> Any:
    """What `pack` packed, as LocatedDict/LocatedList again (positions worked out on first use).
    Raises ValueError (or what marshal raises) on bytes `pack` did not make."""
    version, packed = marshal.loads(payload)
    if version != _PACKED_FORMAT:
        raise ValueError(f"packed format {version}, not {_PACKED_FORMAT}")
    return _unpacked(packed, path, {})


def _packed(value: Any, memo: dict[int, Any]) -> Any:
    if type(value) in _PLAIN_SCALARS:
        return value
    done = memo.get(id(value))
    if done is None:
        # Most values are scalars: tested here rather than in a call per value.
        if isinstance(value, LocatedDict):
            body: Any = {
                key: item if type(item) in _PLAIN_SCALARS else _packed(item, memo)
                for key, item in value.items()
            }
            done = ("m", body, _mapping_positions(value))
        elif isinstance(value, LocatedList):
            items = [
                item if type(item) in _PLAIN_SCALARS else _packed(item, memo) for item in value
            ]
            done = ("l", items, _sequence_positions(value))
        else:
            raise _Unpackable(type(value).__name__)
        memo[id(value)] = done
    return done


def _mapping_positions(value: LocatedDict) -> tuple[int, ...]:
    attributes = value.__dict__
    if "_positions" in attributes:  # unpacked and never asked for a position since
        return tuple(attributes["_positions"][1])
    source = attributes.get("_source")
    if source is not None and source[2] is None and len(source[1].value) == len(value):
        # Still in the YAML node: its marks, in the order of the keys (no odd or equal keys).
        node = source[1]
        positions = [node.start_mark.line + 1, node.start_mark.column + 1]
        for key_node, value_node in node.value:
            k, v = key_node.start_mark, value_node.start_mark
            positions += (k.line + 1, k.column + 1, v.line + 1, v.column + 1)
        return tuple(positions)
    keys, values = value.key_locations, value.value_locations
    positions = [value.location.line, value.location.column]
    for key in value:
        positions += (keys[key].line, keys[key].column, values[key].line, values[key].column)
    return tuple(positions)


def _sequence_positions(value: LocatedList) -> tuple[int, ...]:
    attributes = value.__dict__
    if "_positions" in attributes:
        return tuple(attributes["_positions"][1])
    if "_source" in attributes:
        node = attributes["_source"][1]
        positions = [node.start_mark.line + 1, node.start_mark.column + 1]
        for child in node.value:
            positions += (child.start_mark.line + 1, child.start_mark.column + 1)
        return tuple(positions)
    positions = [value.location.line, value.location.column]
    for item in value.item_locations:
        positions += (item.line, item.column)
    return tuple(positions)


def _unpacked(packed: Any, path: Path, memo: dict[int, Any]) -> Any:
    if type(packed) is not tuple:
        return packed
    done = memo.get(id(packed))
    if done is not None:
        return done
    kind, body, positions = packed
    if kind not in ("m", "l") or len(positions) != 2 + (4 if kind == "m" else 2) * len(body):
        raise ValueError("packed data of the wrong shape")  # the file cache then parses the file
    if kind == "m":
        mapping = memo[id(packed)] = LocatedDict()
        for key, item in body.items():
            mapping[key] = _unpacked(item, path, memo) if type(item) is tuple else item
        mapping._positions = (path, positions)
        return mapping
    sequence = memo[id(packed)] = LocatedList(
        _unpacked(item, path, memo) if type(item) is tuple else item for item in body
    )
    sequence._positions = (path, positions)
    return sequence
