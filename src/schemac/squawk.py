"""squawk, the PostgreSQL migration linter, run on migration files; its JSON read as hazards.

squawk runs with the configuration shipped beside this module (data/squawk.toml: which rules
are off and why), the project's target PostgreSQL version, and `--assume-in-transaction` for
every file Flyway runs in a transaction (all but those whose `.sql.conf` says
executeInTransaction=false). Each rule is mapped to a schemac hazard kind and severity.

One thing squawk cannot know and schemac can: an object created earlier in the same
transactional file is invisible to every other session until the commit, so a lock on it
blocks nobody. squawk knows this for CREATE TABLE but not for a materialized view or
CREATE TABLE AS; such findings are kept, as info, with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pglast

from schemac.diagnostics import SourceLocation
from schemac.errors import EnvironmentFailure, read_utf8
from schemac.hazards import Hazard, Severity
from schemac.records import BASELINE_SOURCE

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# squawk rule -> (schemac hazard kind, severity). An error is an outage or a loss on a busy
# database: writes blocked for the length of a scan or build, a rewrite, data gone, or a file
# that fails on a table holding rows. What only breaks clients or needs review is a warning.
RULES: dict[str, tuple[str, Severity]] = {
    "require-concurrent-index-creation": ("index-build-blocks-writes", E),
    "require-concurrent-index-deletion": ("access-exclusive-lock", W),
    "ban-drop-index": ("index-dropped", W),
    "constraint-missing-not-valid": ("full-scan-under-lock", E),
    "adding-foreign-key-constraint": ("full-scan-under-lock", E),
    "adding-not-nullable-field": ("full-scan-under-lock", E),
    "disallowed-unique-constraint": ("index-build-blocks-writes", E),
    "changing-column-type": ("table-rewrite", E),
    "adding-field-with-default": ("table-rewrite", E),
    "adding-serial-primary-key-field": ("table-rewrite", E),
    "adding-required-field": ("migration-may-fail", E),
    "ban-concurrent-index-creation-in-transaction": ("migration-may-fail", E),
    "ban-uncommitted-transaction": ("migration-may-fail", E),
    "transaction-nesting": ("migration-may-fail", E),
    "ban-drop-column": ("deletes-data", E),
    "ban-drop-table": ("deletes-data", E),
    "ban-drop-database": ("deletes-data", E),
    "ban-truncate-cascade": ("deletes-data", E),
    "ban-drop-schema": ("deletes-data", E),
    "ban-drop-view": ("untrackable-dependency", W),
    "ban-drop-function": ("untrackable-dependency", W),
    "ban-drop-sequence": ("untrackable-dependency", W),
    "ban-drop-type": ("untrackable-dependency", W),
    "ban-drop-trigger": ("untrackable-dependency", W),
    "renaming-column": ("breaks-running-clients", W),
    "renaming-table": ("breaks-running-clients", W),
    "renaming-object": ("breaks-running-clients", W),
    "ban-drop-not-null": ("breaks-running-clients", W),
    "require-enum-value-ordering": ("breaks-running-clients", W),
    "ban-drop-policy": ("authorization-change", W),
    "ban-alter-policy-roles": ("authorization-change", W),
    "ban-disable-trigger": ("authorization-change", W),  # also RLS disabled / not forced
    "ban-revoke": ("authorization-change", W),
    "ban-alter-extension": ("extension-upgrade", W),
    "require-lock-timeout": ("missing-timeout", W),
    "require-statement-timeout": ("missing-timeout", W),
    "require-timeout-settings": ("missing-timeout", W),
}

# Off by default in squawk, on here: each guards something a schemac migration must keep.
INCLUDED_RULES = (
    "ban-drop-index",
    "ban-drop-policy",
    "ban-alter-policy-roles",
    "ban-disable-trigger",
    "ban-revoke",
    "ban-alter-extension",
    "ban-drop-schema",
    "ban-drop-type",
    "ban-drop-trigger",
    "ban-uncommitted-transaction",
    "require-table-schema",  # schemac qualifies every name: this proves it stays so
)


def squawk_binary() -> Path:
    """The squawk the `squawk-cli` wheel installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "squawk"
    if beside.is_file():
        return beside
    found = shutil.which("squawk")
    if found is None:
        raise EnvironmentFailure(
            "squawk is not installed: `pip install squawk-cli` (a dependency of schemac)"
        )
    return Path(found)


def _config_path() -> Path:
    return Path(str(resources.files("schemac") / "data" / "squawk.toml"))


@dataclass(frozen=True)
class MigrationInput:
    path: Path
    in_transaction: bool


def run_squawk(
    files: Sequence[MigrationInput],
    pg_version: str,
    keep: Callable[[Hazard], bool] | None = None,
) -> list[Hazard]:
    """squawk's findings on `files`, as hazards at file:line:col (1-based); with `keep`, only
    the findings it keeps, chosen before the files are parsed to put them in context (the
    parse costs more than squawk itself: `schemac check` keeps only what could block)."""
    return SquawkRun(files, pg_version).findings(keep)


class SquawkRun:
    """squawk started on `files` (a process per transaction mode) and read when its findings
    are wanted: `schemac check` starts it before compiling, so it works on another core."""

    def __init__(self, files: Sequence[MigrationInput], pg_version: str) -> None:
        self.files = list(files)
        self._processes: list[subprocess.Popen[str]] = []
        self._failure: EnvironmentFailure | None = None
        try:
            for in_transaction in (True, False):
                group = [f.path for f in self.files if f.in_transaction == in_transaction]
                if group:
                    command = _command(group, pg_version, in_transaction)
                    self._processes.append(
                        subprocess.Popen(
                            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                        )
                    )
        except OSError as exc:
            self._failure = EnvironmentFailure(f"squawk could not run: {exc}")
        except EnvironmentFailure as failure:  # no squawk installed
            self._failure = failure

    def findings(self, keep: Callable[[Hazard], bool] | None = None) -> list[Hazard]:
        try:
            if self._failure is not None:
                raise self._failure
            found = [hazard for process in self._processes for hazard in _read(process)]
        finally:
            self.close()
        if keep is not None:
            found = [f for f in found if keep(f)]
        if not found:
            return []
        by_path = {f.path.resolve(): f for f in self.files}
        parsed: dict[Path, tuple[list[str], list[_Statement]]] = {}
        earlier = _created_by_earlier_baseline_files(self.files, parsed)
        return [_in_context(h, by_path, parsed, earlier) for h in found]

    def close(self) -> None:
        """Stop what still runs (a caller that no longer needs the findings); idempotent."""
        for process in self._processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
        self._processes = []


def _parsed(path: Path, parsed: dict[Path, tuple[list[str], list[_Statement]]]) -> Any:
    if path not in parsed:
        text = read_utf8(path, "migration")  # a damaged file named, not a traceback
        parsed[path] = (text.splitlines(keepends=True), _statements(text))
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


def _command(paths: list[Path], pg_version: str, in_transaction: bool) -> list[str]:
    version = pg_version if "." in pg_version else f"{pg_version}.0"
    return [
        str(squawk_binary()),
        "--reporter",
        "json",
        "--config",
        str(_config_path()),
        f"--pg-version={version}",
        "--assume-in-transaction" if in_transaction else "--no-assume-in-transaction",
        f"--include={','.join(INCLUDED_RULES)}",
        *[str(p) for p in paths],
    ]


def _read(process: subprocess.Popen[str]) -> list[Hazard]:
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.communicate()
        raise EnvironmentFailure(f"squawk could not run: {exc}") from None
    try:
        violations = json.loads(stdout or "[]")
    except json.JSONDecodeError:
        violations = None
    if process.returncode not in (0, 1) or not isinstance(violations, list):
        detail = (stderr or stdout).strip()[:2000]
        raise EnvironmentFailure(f"squawk failed (exit {process.returncode}): {detail}")
    return [_hazard(v) for v in violations]


def _hazard(violation: dict[str, object]) -> Hazard:
    rule = str(violation.get("rule_name", "unknown"))
    kind, severity = RULES.get(rule, ("other", W))
    if rule == "syntax-error" or str(violation.get("level", "")).lower() == "error":
        kind, severity = "migration-may-fail", E
    line, column = violation.get("line"), violation.get("column")
    location = SourceLocation(
        Path(str(violation.get("file", ""))),
        (line if isinstance(line, int) else 0) + 1,  # squawk counts lines and columns from 0
        (column if isinstance(column, int) else 0) + 1,
    )
    help_text = violation.get("help")
    return Hazard(
        code=rule,
        severity=severity,
        object="",
        message=str(violation.get("message", "")),
        location=location,
        source="squawk",
        kind=kind,
        hint=str(help_text) if help_text else None,
    )


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


def _statements(text: str) -> list[_Statement]:
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
