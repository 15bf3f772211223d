"""squawk's findings put in context: the statement each one falls in, read from PostgreSQL's
parse tree, names the object it acts on; a finding squawk cannot know to be harmless becomes
info with the reason (an object created earlier in the same transaction or by an earlier file
of the baseline, or a statement schemac marked as proved harmless)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pglast

from schemac.diagnostics import SourceLocation
from schemac.errors import read_utf8
from schemac.hazards import Hazard, Severity
from schemac.records import BASELINE_SOURCE

if TYPE_CHECKING:
    from schemac.squawk import MigrationInput

INFO = Severity.INFO


def in_context(found: list[Hazard], files: Sequence[MigrationInput]) -> list[Hazard]:
    """``found`` (squawk's findings on ``files``), each named after its statement's object and
    made info where the statement is harmless in its file; the files are parsed only here."""
    by_path = {f.path.resolve(): f for f in files}
    parsed: dict[Path, tuple[list[str], list[_Statement]]] = {}
    earlier = _created_by_earlier_baseline_files(files, parsed)
    return [_in_context(h, by_path, parsed, earlier) for h in found]


def _parsed(path: Path, parsed: dict[Path, tuple[list[str], list[_Statement]]]) -> Any:
    if path not in parsed:
        text = read_utf8(path, "migration")  # a damaged file named, not a traceback
        parsed[path] = (text.splitlines(keepends=True), read_statements(text))
    return parsed[path]


def _created_by_earlier_baseline_files(
    files: Sequence[MigrationInput], parsed: dict[Path, tuple[list[str], list[_Statement]]]
) -> dict[Path, set[str]]:
    """For each baseline file (compile's, in version order): the relations the baseline files
    before it create. A baseline runs only on a database built from nothing (an adopted one
    skips it: Flyway's baseline), so a relation it created a file earlier is still empty and
    unused when a later file of it adds a key or constraint: no scan, no lock anyone waits on."""
    created: set[str] = set()
    out: dict[Path, set[str]] = {}
    for source in files:
        path = source.path.resolve()
        lines, statements = _parsed(path, parsed)
        if len(lines) < 2 or not lines[1].startswith(BASELINE_SOURCE):
            continue
        out[path] = set(created)
        created |= {s.creates for s in statements if s.creates}
    return out


@dataclass(frozen=True)
class _Statement:
    start: int  # character offset in the file
    targets: tuple[str, ...]  # the relations or routines it acts on, qualified as written
    creates: str | None  # the relation or routine it creates


# The statements are read from PostgreSQL's parse tree as JSON (pglast.parser.parse_sql_json):
# building pglast's Python nodes for every statement of every migration costs five times more,
# and only a few fields of a few statement kinds are read here.
Tree = dict[str, Any]


def _qualified(range_var: Tree | None) -> str | None:
    if range_var is None:
        return None
    name = str(range_var.get("relname", ""))
    return f"{range_var['schemaname']}.{name}" if range_var.get("schemaname") else name


def _dotted(names: list[Tree] | None) -> str:
    return ".".join(str(n.get("String", {}).get("sval", "")) for n in names or ())


def _grant_targets(stmt: Tree) -> tuple[str, ...]:
    names: list[str] = []
    for item in stmt.get("objects", ()):
        if "RangeVar" in item:
            names.append(_qualified(item["RangeVar"]) or "")
        elif "ObjectWithArgs" in item:  # a routine, known by name (overloads aside)
            names.append(_dotted(item["ObjectWithArgs"].get("objname")))
    return tuple(names)


def _statement(node: Tree) -> tuple[tuple[str, ...], str | None]:
    ((kind, stmt),) = node.items()
    if kind in ("IndexStmt", "AlterTableStmt"):
        return (_qualified(stmt.get("relation")) or "",), None
    if kind == "GrantStmt":
        return _grant_targets(stmt), None
    if kind == "CreateStmt":
        return (), _qualified(stmt.get("relation"))
    if kind == "CreateTableAsStmt":
        into = stmt.get("into")
        return (), _qualified(into.get("rel")) if into is not None else None
    if kind == "CreateFunctionStmt":
        return (), _dotted(stmt.get("funcname"))
    return (), None


def read_statements(text: str) -> list[_Statement]:
    try:
        raw = json.loads(pglast.parser.parse_sql_json(text))["stmts"]
    except pglast.parser.ParseError:
        return []  # squawk reports the syntax error itself
    found = [item for item in raw if "stmt" in item]
    starts = _character_offsets(text, [item.get("stmt_location", 0) for item in found])
    return [
        _Statement(start, *_statement(item["stmt"]))
        for start, item in zip(starts, found, strict=True)
    ]


def _character_offsets(text: str, byte_offsets: list[int]) -> list[int]:
    """The parser's byte offsets (ascending) as offsets in ``text``'s characters."""
    data = text.encode("utf-8")
    if len(data) == len(text):
        return byte_offsets
    offsets, previous_byte, previous_character = [], 0, 0
    for offset in byte_offsets:
        previous_character += len(data[previous_byte:offset].decode("utf-8"))
        previous_byte = offset
        offsets.append(previous_character)
    return offsets


# squawk rule -> (the comment migration_files.py writes before a statement schemac proved
# harmless, why): squawk reads one file and cannot know the old type, or the check validated
# in the previous file.
_MARKS = {
    "changing-column-type": (
        "-- schemac: the type change below rewrites nothing",
        "schemac found that this type change rewrites nothing, e.g. a longer varchar",
    ),
    "adding-field-with-default": (
        "-- schemac: the column below is virtual",
        "a virtual generated column is computed when read; adding it rewrites no row",
    ),
    "adding-not-nullable-field": (
        "-- schemac: the validated CHECK (column IS NOT NULL) proves this",
        "the CHECK validated by the previous migration proves it; PostgreSQL scans nothing",
    ),
}


def _marked(lines: list[str], start: int, finding_line: int, mark: str) -> bool:
    """Whether migration_files' mark stands between the end of the previous statement (a
    statement's text, as PostgreSQL's parser locates it, starts there) and the finding."""
    offset, first = 0, 0
    for number, line in enumerate(lines):
        if offset + len(line) > start:
            first = number
            break
        offset += len(line)
    return any(line.startswith(mark) for line in lines[max(first - 1, 0) : finding_line])


def _in_context(
    found: Hazard,
    files: dict[Path, MigrationInput],
    parsed: dict[Path, tuple[list[str], list[_Statement]]],
    baseline_created: dict[Path, set[str]],
) -> Hazard:
    """Name the object the statement acts on; a lock on a relation this same transaction
    created blocks nobody, so such a finding becomes info."""
    loc = found.location
    if loc is None:
        return found
    path = loc.path.resolve()
    source = files.get(path)
    if source is None:
        return found
    lines, statements = _parsed(path, parsed)
    offset = sum(len(line) for line in lines[: loc.line - 1]) + loc.column - 1
    before = [s for s in statements if s.start <= offset]
    if not before:
        return found
    statement = before[-1]
    target = ", ".join(statement.targets) or statement.creates or ""
    found = replace(found, object=target, location=SourceLocation(source.path, *loc[1:]))
    mark = _MARKS.get(found.code)
    if mark is not None and _marked(lines, statement.start, loc.line, mark[0]):
        return replace(found, severity=INFO, message=f"{found.message} (harmless here: {mark[1]})")
    created_here = {s.creates for s in before[:-1] if s.creates}
    if (
        source.in_transaction
        and statement.targets
        and set(statement.targets) <= created_here
        and found.severity != INFO
    ):
        return replace(
            found,
            severity=INFO,
            message=f"{found.message} (harmless here: {target} is created earlier in this "
            "file's transaction, so no other session can be using it)",
        )
    if (
        path in baseline_created
        and statement.targets
        and set(statement.targets) <= baseline_created[path] | created_here
        and found.severity != INFO
    ):
        return replace(
            found,
            severity=INFO,
            message=f"{found.message} (harmless here: {target} is created by the baseline, "
            "which runs only on a database built from nothing, where it is still empty)",
        )
    return found
