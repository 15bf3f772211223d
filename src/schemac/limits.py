"""Bounded input: how much a YAML file, an alias or a function body may make schemac read or
build, and which files a project may make it read at all (docs/yaml-format.md, Limits).

A 661-byte YAML document whose anchors each hold ten aliases of the one before expands to ten
billion nodes; a `body_file:` may name /dev/zero or /etc/passwd. Every limit is checked before
the work it bounds, and a breach is a located error, never a MemoryError.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from schemac.diagnostics import Diagnostic, SourceLocation

MAX_YAML_FILE_BYTES = 16 * 1024 * 1024  # one YAML file of schema/
MAX_BODY_FILE_BYTES = 1024 * 1024  # one function body read from `body_file:`
MAX_ALIAS_NODES = 100_000  # the nodes aliases may add to one document, counted as copies
MAX_NESTING = 200  # mappings and sequences inside each other

try:  # the same parser the loader uses, for the slow pass that finds the offending alias
    _EventLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _EventLoader = yaml.SafeLoader

_ScalarNode = yaml.ScalarNode


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def alias_problem(root: yaml.Node) -> str | None:
    """'recursive', 'expansion' or 'deep' when the composed document breaks a limit, else None.

    An alias is the node of its anchor again, so the tree is a graph: its size as the
    document's consumers see it (every alias a copy) is worked out once per distinct node.
    """
    expanded: dict[int, int] = {}
    distinct = 0
    on_path: set[int] = {id(root)}
    stack: list[tuple[yaml.Node, list[yaml.Node], int]] = [(root, _children(root), 0)]
    while stack:
        node, children, next_child = stack[-1]
        if next_child < len(children):
            stack[-1] = (node, children, next_child + 1)
            child = children[next_child]
            key = id(child)
            if key in on_path:
                return "recursive"
            if key in expanded:
                continue
            if child.__class__ is _ScalarNode:
                expanded[key] = 1
                distinct += 1
                continue
            if len(stack) >= MAX_NESTING:
                return "deep"
            on_path.add(key)
            stack.append((child, _children(child), 0))
            continue
        stack.pop()
        on_path.discard(id(node))
        distinct += 1
        size = 1 + sum(expanded[id(child)] for child in children)
        expanded[id(node)] = size
        if size - distinct > MAX_ALIAS_NODES:
            return "expansion"
    return None


def locate_alias_problem(path: Path, text: str, problem: str) -> Diagnostic:
    """The diagnostic for `problem`, at the alias (or the node) where the document breaks it.

    The composed tree no longer knows where its aliases were, so the document is read again
    as events (cheap, and only on this error path)."""
    added = 0
    depth = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes counted before it)
    total = 0
    for event in yaml.parse(text, Loader=_EventLoader):
        mark = event.start_mark
        where = (
            SourceLocation(path, 1, 1)
            if mark is None
            else SourceLocation(path, mark.line + 1, mark.column + 1)
        )
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                return _recursive(where, str(event.anchor))
            size = sizes.get(str(event.anchor), 1)
            added += size
            total += size
            if added > MAX_ALIAS_NODES:
                return _expansion(where, str(event.anchor))
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                return too_deep(where)
            open_nodes.append((event.anchor, total))
            total += 1
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
            anchor, before = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = total - before
    # The tree and the events disagree only if the document could not be counted at all.
    return (
        too_deep(SourceLocation(path, 1, 1))
        if problem == "deep"
        else _expansion(SourceLocation(path, 1, 1), "?")
    )


def _recursive(where: SourceLocation, anchor: str) -> Diagnostic:
    return Diagnostic(
        "E106",
        f"alias *{anchor} is inside the anchor &{anchor} it names: the value would contain itself",
        where,
        hint="an anchor (&name) cannot contain an alias (*name) of itself",
    )


def _expansion(where: SourceLocation, anchor: str) -> Diagnostic:
    return Diagnostic(
        "E106",
        f"alias *{anchor} makes the document expand to more than {MAX_ALIAS_NODES:,} "
        "nodes beyond those written (aliases nested in aliases multiply)",
        where,
        hint="write the repeated part out, or nest fewer aliases (docs/yaml-format.md, Limits)",
    )


def too_deep(where: SourceLocation) -> Diagnostic:
    return Diagnostic(
        "E106",
        f"mappings and lists nest more than {MAX_NESTING} levels deep here",
        where,
        hint="no schemac document needs that depth; look for a runaway bracket",
    )


def nul_scalar(root: yaml.Node) -> yaml.Node | None:
    """The first scalar holding a NUL character (only an escape like "\\0" can write one)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.__class__ is _ScalarNode:
            if "\x00" in node.value:
                return node
            continue
        stack.extend(reversed(_children(node)))
    return None


def nul_diagnostic(path: Path, node: yaml.Node) -> Diagnostic:
    mark = node.start_mark
    return Diagnostic(
        "E107",
        "this value holds a NUL character (\\0): PostgreSQL text cannot hold one, and it "
        "would cut the SQL statement short",
        SourceLocation(path, mark.line + 1, mark.column + 1),
        hint="remove the \\0 (or \\x00, \\u0000) escape",
    )


# -- reading YAML files -----------------------------------------------------------------------


def read_yaml_text(path: Path, raw: bytes | None, problems: list[Diagnostic]) -> str | None:
    """The text of a YAML file (from `raw` when the caller read it): None, with the reason in
    `problems`, when it is too large, unreadable or not UTF-8."""
    try:
        if raw is None:
            with path.open("rb") as handle:  # never more than one byte past the cap
                raw = handle.read(MAX_YAML_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(
            Diagnostic(
                "E100",
                f"cannot read file: {exc.strerror or exc}",
                SourceLocation(path, 1, 1),
                hint="check that the file exists and is readable",
            )
        )
        return None
    if len(raw) > MAX_YAML_FILE_BYTES:
        problems.append(
            Diagnostic(
                "E110",
                f"a YAML file may hold at most {MAX_YAML_FILE_BYTES:,} bytes; this one holds more",
                SourceLocation(path, 1, 1),
                hint="split it into several files (see docs/yaml-format.md, Limits)",
            )
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        problems.append(
            Diagnostic(
                "E100",
                f"file is not valid UTF-8 ({exc.reason})",
                character_location(path, before, len(before)),
                hint="save the file as UTF-8",
            )
        )
        return None


def character_location(path: Path, text: str, position: int) -> SourceLocation:
    """The line and column of a character offset of `text`."""
    before = text[:position]
    line = before.count("\n") + 1
    return SourceLocation(path, line, position - (before.rfind("\n") + 1) + 1)


# -- files the YAML names ---------------------------------------------------------------------


class FileRefused(Exception):
    """A file the project may not make schemac read; the message says why and what to do."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def inside_project(path: Path, root: Path) -> Path:
    """`path` with every symbolic link resolved, relative to the project root; FileRefused
    when it is not inside the project (a symbolic link may point anywhere)."""
    real_root = root.resolve()
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError as exc:
        target = os.readlink(path) if path.is_symlink() else None
        if target is not None:
            raise FileRefused(
                "E111",
                f"{path.name} is a symbolic link to {target}, which does not exist",
                "remove the link or create what it points at",
            ) from exc
        raise
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise FileRefused("E111", f"{path.name} cannot be resolved ({exc})") from exc
    try:
        return real.relative_to(real_root)
    except ValueError:
        raise FileRefused(
            "E111",
            f"{path.name} resolves to a file outside the project ({real_root})",
            "schemac only reads files inside the project folder; copy the file into it",
        ) from None


def read_body_file(yaml_path: Path, written: str, root: Path) -> str:
    """The text of a `body_file:` (relative to the YAML file naming it): a regular UTF-8 file
    inside the project of at most MAX_BODY_FILE_BYTES. FileRefused otherwise."""
    if not isinstance(written, str) or not written.strip():
        raise FileRefused("E112", "body_file must be a relative path to a file")
    if "\x00" in written or Path(written).is_absolute() or written.startswith("~"):
        raise FileRefused(
            "E112",
            f"body_file '{written}' is not a relative path",
            "name the file relative to this YAML file, inside the project",
        )
    candidate = yaml_path.parent / written
    lexical = Path(os.path.normpath(os.path.abspath(candidate)))
    if not lexical.is_relative_to(os.path.abspath(root)):
        raise FileRefused(
            "E112",
            f"body_file '{written}' leads out of the project ({root})",
            "schemac only reads files inside the project folder; copy the file into it",
        )
    try:
        inside_project(candidate, root)
    except FileNotFoundError:
        raise FileRefused(
            "E313",
            f"body_file '{written}' not found (looked in {candidate.parent})",
            "the path is relative to this YAML file",
        ) from None
    except FileRefused as exc:
        raise FileRefused("E112", f"body_file '{written}': {exc.message}", exc.hint) from None
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        descriptor = os.open(candidate, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise FileRefused(
                "E112",
                f"body_file '{written}' is not a regular file",
                "a function body must be a plain text file",
            )
        with os.fdopen(descriptor, "rb") as handle:
            raw = handle.read(MAX_BODY_FILE_BYTES + 1)
    except OSError as exc:
        raise FileRefused(
            "E100", f"body_file '{written}' cannot be read: {exc.strerror or exc}"
        ) from None
    if len(raw) > MAX_BODY_FILE_BYTES:
        raise FileRefused(
            "E110",
            f"body_file '{written}' holds more than {MAX_BODY_FILE_BYTES:,} bytes",
            "a function body that large is not what schemac is for",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRefused("E100", f"body_file '{written}' is not UTF-8 text") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileRefused(
            "E107",
            f"body_file '{written}' holds a NUL character (line {line}); PostgreSQL text "
            "cannot hold one",
        )
    return text


def refused_diagnostic(exc: FileRefused, where: SourceLocation | None) -> Diagnostic:
    return Diagnostic(exc.code, exc.message, where, hint=exc.hint)
