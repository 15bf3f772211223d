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

from schemac import limits
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.limits import MAX_NESTING

# Re-exported: the later stages import the containers from the loader.
from schemac.located import LocatedDict as LocatedDict
from schemac.located import LocatedList as LocatedList

try:  # libyaml parses several times faster; the pure-Python parser gives the same result
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


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


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_ScalarNode = yaml.ScalarNode


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        super().__init__("too deep")
        self.node = node


class _Converter:
    """Turns the composed node tree into Located containers and plain scalars.

    PyYAML's constructor machinery costs more than parsing itself; walking the nodes here
    directly halves the load time, and it is where duplicate keys and positions are recorded.
    """

    def __init__(
        self, path: Path, loader: Any, diagnostics: list[Diagnostic], has_merges: bool
    ) -> None:
        self.path = path
        self.loader = loader  # its SafeConstructor converts the rare non-string scalars
        self.diagnostics = diagnostics
        self.has_merges = has_merges  # `<<` appears in the text: look for merge keys
        self.converted: dict[int, Any] = {}
        self.depth = 0

    def convert(self, node: yaml.Node) -> Any:
        if node.__class__ is _ScalarNode:
            tag = node.tag
            if tag in (_STR_TAG, _TIMESTAMP_TAG):
                # Timestamps and dates stay strings: they are SQL literals, not Python objects.
                return node.value
            return self.loader.construct_object(node, deep=True)
        # An alias is the same node again: convert it once (also defuses "billion laughs").
        done = self.converted.get(id(node))
        if done is not None:
            return done
        if isinstance(node, yaml.MappingNode):
            done = self.converted[id(node)] = self.mapping(node)
            return done
        if isinstance(node, yaml.SequenceNode):
            done = self.converted[id(node)] = self.sequence(node)
            return done
        return self.loader.construct_object(
            node, deep=True
        )  # pragma: no cover - unknown node kinds

    def _enter(self, node: yaml.Node, plain_tag: str) -> None:
        """Depth and tag checks of a mapping or sequence (cheap: once per container)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _TooDeep(node)
        if node.tag != plain_tag:  # `!!python/object {}`, `!!set`, `!custom [...]`
            raise yaml.constructor.ConstructorError(
                None, None, f"the tag {node.tag} is not allowed here", node.start_mark
            )

    def mapping(self, node: yaml.MappingNode) -> LocatedDict:
        self._enter(node, _MAP_TAG)
        try:
            return self._mapping(node)
        finally:
            self.depth -= 1

    def _mapping(self, node: yaml.MappingNode) -> LocatedDict:
        if self.has_merges and any(key.tag == _MERGE_TAG for key, _ in node.value):
            return self.merged_mapping(node)
        convert = self.convert
        result = LocatedDict()
        odd_keys: dict[int, str] | None = None  # converted keys that are not plain strings
        for key_node, value_node in node.value:
            if key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = _key_text(
                    key_node, None if key_node.__class__ is _ScalarNode else convert(key_node)
                )
                if odd_keys is None:
                    odd_keys = {}
                odd_keys[id(key_node)] = key
            if key in result:
                first = next(
                    k
                    for k, _ in node.value
                    if (k.value if odd_keys is None else odd_keys.get(id(k), k.value)) == key
                )
                self.duplicate(key, key_node, first.start_mark.line + 1)
                continue
            if value_node.__class__ is _ScalarNode and value_node.tag == _STR_TAG:
                result[key] = value_node.value
            else:
                result[key] = convert(value_node)
        result._source = (self.path, node, odd_keys)
        return result

    def duplicate(self, key: str, key_node: yaml.Node, first_line: int) -> None:
        self.diagnostics.append(
            Diagnostic(
                "E102",
                f"duplicate key '{key}' (first defined at line {first_line})",
                _location(self.path, key_node.start_mark),
                hint="YAML keeps only one of them; remove or rename one",
            )
        )

    def merged_mapping(self, node: yaml.MappingNode) -> LocatedDict:
        """A mapping with `<<` merge keys: positions are recorded as the merge resolves."""
        own = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        self.loader.flatten_mapping(node)  # merged pairs first, then the mapping's own
        merged = len(node.value) - own
        merged_keys: set[str] = set()
        path = self.path
        result = LocatedDict()
        result.location = _location(path, node.start_mark)
        key_locations: dict[str, SourceLocation] = {}
        value_locations: dict[str, SourceLocation] = {}
        result.key_locations = key_locations
        result.value_locations = value_locations
        for position, (key_node, value_node) in enumerate(node.value):
            key = (
                key_node.value
                if key_node.__class__ is _ScalarNode
                else _key_text(key_node, self.convert(key_node))
            )
            if position < merged:
                # In `<<: [*a, *b]` the map listed first wins (YAML's merge rule; PyYAML's own
                # constructor lets the last one win). A clash between merged maps is no error.
                if key in result:
                    continue
                merged_keys.add(key)
            elif key in merged_keys:
                merged_keys.discard(key)  # a key of the mapping itself overrides a merged one
                del result[key]
            if key in result:
                self.duplicate(key, key_node, key_locations[key].line)
                continue
            result[key] = self.convert(value_node)
            key_locations[key] = _location(path, key_node.start_mark)
            value_locations[key] = _location(path, value_node.start_mark)
        return result

    def sequence(self, node: yaml.SequenceNode) -> LocatedList:
        self._enter(node, _SEQ_TAG)
        result = LocatedList([self.convert(child) for child in node.value])
        self.depth -= 1
        result._source = (self.path, node)
        return result


def _key_text(key_node: yaml.Node, converted: Any) -> str:
    """A key as written: YAML 1.1 reads `no:` as false and `1.0:` as a float, but schemac names
    are always strings, so a plain scalar key keeps its text (`no`, not `false`)."""
    if key_node.__class__ is _ScalarNode:
        return str(key_node.value)
    return converted if isinstance(converted, str) else str(converted)


def load_file(path: Path, raw: bytes | None = None) -> LoadResult:
    """Load one YAML file (its bytes, when the caller has read them already); syntax errors,
    duplicate keys and inputs beyond the documented limits become diagnostics."""
    result = LoadResult()
    text = limits.read_yaml_text(path, raw, result.diagnostics)
    if text is None:
        return result
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in text and "*" in text:
            problem = limits.alias_problem(node)
            if problem is not None:
                result.diagnostics.append(limits.locate_alias_problem(path, text, problem))
                return result
        if node is not None and "\\" in text:  # a NUL can only come from an escape
            nul = limits.nul_scalar(node)
            if nul is not None:
                result.diagnostics.append(limits.nul_diagnostic(path, nul))
                return result
        converter = _Converter(path, loader, result.diagnostics, has_merges="<<" in text)
        data = None if node is None else converter.convert(node)
    except _TooDeep as exc:
        result.diagnostics.append(limits.too_deep(_location(path, exc.node.start_mark)))
        return result
    except RecursionError:
        result.diagnostics.append(limits.locate_alias_problem(path, text, "deep"))
        return result
    except yaml.YAMLError as exc:
        result.diagnostics.append(_syntax_error(path, text, exc))
        return result
    finally:
        loader.dispose()
    result.documents.append(Document(path, data, text))
    return result


def _syntax_error(path: Path, text: str, exc: yaml.YAMLError) -> Diagnostic:
    """A YAML error as E101 at the most useful position PyYAML gives."""
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml's reader errors carry a character offset, not a line and column.
        character = exc.character
        code = ord(character) if isinstance(character, str) else int(character)
        what = "a NUL byte" if code == 0 else f"character #x{code:04x}"
        return Diagnostic(
            "E101",
            f"YAML syntax error: {what} is not allowed in YAML text",
            limits.character_location(path, text, exc.position),
            hint="remove it; control characters cannot appear in a YAML file",
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Diagnostic("E101", f"YAML error: {exc}", SourceLocation(path, 1, 1))
    mark = exc.problem_mark or exc.context_mark
    at_end = mark is not None and mark.index >= len(text.rstrip())
    if exc.context_mark is not None and (at_end or "end of stream" in str(exc.problem)):
        mark = exc.context_mark  # an unclosed quote or bracket: where it was opened
    loc = _location(path, mark) if mark is not None else SourceLocation(path, 1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        message += f" ({exc.context})"
    return Diagnostic(
        "E101",
        message,
        loc,
        hint="check the indentation and quoting on this line and the one above",
    )
