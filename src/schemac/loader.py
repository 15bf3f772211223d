"""Stage 1, load: YAML files into plain data plus a source map (file:line:col for every node).

PyYAML silently keeps the last of two equal keys; this loader reports every duplicate instead.
Mappings and sequences are dict and list subclasses that remember where each key and value
came from, so later stages can point at the exact line without carrying YAML nodes around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from schemac.diagnostics import Diagnostic, SourceLocation

try:  # libyaml parses several times faster; the pure-Python parser gives the same result
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class LocatedDict(dict[str, Any]):
    """A mapping that knows where it, its keys and its values are in the source."""

    location: SourceLocation
    key_locations: dict[str, SourceLocation]
    value_locations: dict[str, SourceLocation]


class LocatedList(list[Any]):
    """A sequence that knows where it and each item are in the source."""

    location: SourceLocation
    item_locations: list[SourceLocation]


@dataclass
class Document:
    """One YAML file, loaded."""

    path: Path
    data: Any
    text: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _location(path: Path, mark: Any) -> SourceLocation:
    return SourceLocation(path, mark.line + 1, mark.column + 1)


def _make_loader(path: Path, diagnostics: list[Diagnostic]) -> type[yaml.SafeLoader]:
    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.location = _location(path, node.start_mark)
        result.key_locations = {}
        result.value_locations = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_loc = _location(path, key_node.start_mark)
            if not isinstance(key, str):
                # YAML allows `1:` or `yes:` keys; schemac names are always strings.
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                first = result.key_locations[key]
                diagnostics.append(
                    Diagnostic(
                        "E102",
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        key_loc,
                        hint="YAML keeps only one of them; remove or rename one",
                    )
                )
                continue
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_locations[key] = key_loc
            result.value_locations[key] = _location(path, value_node.start_mark)
        return result

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        result.location = _location(path, node.start_mark)
        result.item_locations = [_location(path, child.start_mark) for child in node.value]
        return result

    class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
        pass

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    # Timestamps and dates stay strings: they are SQL literals to schemac, not Python objects.
    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)
    return _Loader


def load_file(path: Path) -> LoadResult:
    """Load one YAML file; syntax errors and duplicate keys become diagnostics."""
    result = LoadResult()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        result.diagnostics.append(
            Diagnostic(
                "E100", f"file is not valid UTF-8 ({exc.reason})", SourceLocation(path, 1, 1)
            )
        )
        return result
    except OSError as exc:
        result.diagnostics.append(
            Diagnostic("E100", f"cannot read file: {exc.strerror}", SourceLocation(path, 1, 1))
        )
        return result
    loader_class = _make_loader(path, result.diagnostics)
    loader = loader_class(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _location(path, mark) if mark is not None else SourceLocation(path, 1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context})"
        result.diagnostics.append(
            Diagnostic(
                "E101",
                message,
                loc,
                hint="check the indentation and quoting on this line and the one above",
            )
        )
        return result
    except yaml.YAMLError as exc:
        result.diagnostics.append(
            Diagnostic("E101", f"YAML error: {exc}", SourceLocation(path, 1, 1))
        )
        return result
    finally:
        loader.dispose()
    result.documents.append(Document(path, data, text))
    return result
