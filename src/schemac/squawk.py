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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from schemac.diagnostics import SourceLocation
from schemac.errors import EnvironmentFailure
from schemac.hazards import Hazard, Severity
from schemac.squawk_context import in_context

E, W = Severity.ERROR, Severity.WARNING

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
        return in_context(found, self.files)

    def close(self) -> None:
        """Stop what still runs (a caller that no longer needs the findings); idempotent."""
        for process in self._processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
        self._processes = []


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
