"""Hazards as data: what a migration or a schema may do to a busy production database.

A hazard has a stable code, a severity, the object it concerns, a message and where it was
found (the YAML line that declares the object, or the migration line squawk points at).
`schemac lint` reports them; a typed diff plan's operations can carry the same values
(`Hazard.location` stays None until the operation is written to a file).

Codes are schemac's own (the kinds below) or squawk's rule names; `KINDS` is the one list of
schemac's codes, with the severity each has unless the finding says otherwise, and docs/safety.md
explains each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.loader import LocatedDict, LocatedList


class Severity(StrEnum):
    ERROR = "error"  # fails `schemac lint` unless acknowledged
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class HazardKind:
    code: str
    severity: Severity
    summary: str


def _kinds(*kinds: HazardKind) -> dict[str, HazardKind]:
    return {kind.code: kind for kind in kinds}


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

KINDS = _kinds(
    # What a statement does to an existing table (in the spirit of pg-schema-diff's hazards).
    HazardKind(
        "access-exclusive-lock",
        W,
        "takes an ACCESS EXCLUSIVE lock on an existing relation: reads and writes wait",
    ),
    HazardKind(
        "table-rewrite", E, "rewrites the whole table and its indexes under ACCESS EXCLUSIVE"
    ),
    HazardKind(
        "full-scan-under-lock", E, "scans the whole table while holding a lock that blocks writes"
    ),
    HazardKind(
        "index-build-blocks-writes", E, "builds an index without CONCURRENTLY: writes wait for it"
    ),
    HazardKind(
        "index-build", INFO, "builds an index concurrently: load on the server, no blocking"
    ),
    HazardKind("index-dropped", W, "drops an index: queries that used it may slow down"),
    HazardKind("deletes-data", E, "drops a table, column or rows: the data is gone"),
    HazardKind("authorization-change", W, "changes who may read or write (grants, policies, RLS)"),
    HazardKind(
        "untrackable-dependency",
        W,
        "drops or replaces an object others may use in ways the catalog does not track",
    ),
    HazardKind("breaks-running-clients", W, "renames or removes what running code refers to"),
    HazardKind("extension-upgrade", W, "upgrades an extension: its objects may change"),
    HazardKind(
        "missing-timeout", W, "no lock_timeout/statement_timeout: one long query stalls all"
    ),
    HazardKind("migration-may-fail", E, "the statement fails on a database that holds data"),
    HazardKind("other", W, "a squawk rule schemac has no kind for"),
    # What only schemac can see: the tenancy declaration and the security of the model.
    HazardKind("tenant-rls-disabled", E, "a tenant table without row-level security enabled"),
    HazardKind(
        "tenant-rls-not-forced", E, "a tenant table whose owner bypasses row-level security"
    ),
    HazardKind("tenant-policy-missing", E, "a tenant table without a tenant-isolation policy"),
    HazardKind(
        "tenant-policy-broadened", E, "a permissive policy that lets every tenant's rows in"
    ),
    HazardKind("tenant-policy-dropped", E, "a tenant table lost a policy the previous state had"),
    HazardKind(
        "tenant-policy-unscoped", W, "a permissive policy on a tenant table that ignores the tenant"
    ),
    HazardKind(
        "tenant-matview-readable",
        E,
        "a materialized view of tenant rows that a role may read: RLS does not filter it",
    ),
    HazardKind(
        "definer-without-search-path", E, "a SECURITY DEFINER routine without a pinned search_path"
    ),
    HazardKind(
        "definer-search-path-temp-first",
        W,
        "a SECURITY DEFINER search_path that lets the caller's temporary schema come first",
    ),
    HazardKind("grant-to-public", W, "a privilege granted to PUBLIC, i.e. to every role"),
    HazardKind(
        "tenant-schema-table-not-tenant", W, "a table in a tenant schema that is not tenant-scoped"
    ),
    HazardKind("acknowledgement-unused", W, "an acknowledgement in schemac.yaml matches nothing"),
)


@dataclass(frozen=True)
class Hazard:
    """One finding. `code` is stable: a schemac kind, or the squawk rule that reported it."""

    code: str
    severity: Severity
    object: str  # the qualified object it concerns; "" when squawk names none
    message: str
    location: SourceLocation | None = None
    source: str = "schemac"  # "schemac" or "squawk"
    kind: str | None = None  # for a squawk rule: the schemac kind it falls under
    hint: str | None = None
    acknowledged: str | None = field(default=None, compare=False)  # the acknowledgement's reason

    @property
    def blocking(self) -> bool:
        """An error nobody acknowledged: the finding that makes `schemac lint` exit 1."""
        return self.severity is Severity.ERROR and self.acknowledged is None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code, self.object)
        return (str(loc.path), loc.line, loc.column, self.code, self.object)


def hazard(
    code: str,
    obj: str,
    message: str,
    location: SourceLocation | None = None,
    *,
    severity: Severity | None = None,
    hint: str | None = None,
) -> Hazard:
    """A schemac hazard of a known kind, with the kind's severity unless one is given."""
    kind = KINDS[code]
    return Hazard(code, severity or kind.severity, obj, message, location, hint=hint)


# -- acknowledgements: `lint: {acknowledge: [...]}` in schemac.yaml ---------------------------------


@dataclass(frozen=True)
class Acknowledgement:
    """A finding the project accepts, with why. Every field given must match; `rule` always."""

    rule: str
    reason: str
    file: str | None = None  # relative to the project root, as the report shows it
    line: int | None = None
    object: str | None = None
    location: SourceLocation | None = field(default=None, compare=False)

    def matches(self, found: Hazard, root: Path) -> bool:
        """`rule` is a finding's code or, for a squawk finding, its schemac kind: one
        `{rule: table-rewrite, object: s.t}` accepts the diff plan's hazard and squawk's
        changing-column-type on that table alike."""
        if self.rule not in (found.code, found.kind):
            return False
        if self.object is not None and found.object != self.object:
            return False
        if self.file is None:
            return self.line is None
        if found.location is None or relative_path(found.location.path, root) != self.file:
            return False
        return self.line is None or found.location.line == self.line


def relative_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def acknowledge(
    findings: list[Hazard], acknowledgements: tuple[Acknowledgement, ...], root: Path
) -> list[Hazard]:
    """The findings with their acknowledgement's reason; an acknowledgement that matches
    nothing is itself reported, so a stale one does not linger and hide a future finding."""
    used: set[int] = set()
    result: list[Hazard] = []
    for found in findings:
        match = next(
            (i for i, ack in enumerate(acknowledgements) if ack.matches(found, root)), None
        )
        if match is None:
            result.append(found)
        else:
            used.add(match)
            result.append(replace(found, acknowledged=acknowledgements[match].reason))
    for i, ack in enumerate(acknowledgements):
        if i not in used:
            where = ", ".join(
                f"{key} {value}"
                for key, value in (("file", ack.file), ("line", ack.line), ("object", ack.object))
                if value is not None
            )
            result.append(
                hazard(
                    "acknowledgement-unused",
                    "",
                    f"the acknowledgement of {ack.rule}{f' ({where})' if where else ''} "
                    "matches no finding",
                    ack.location,
                    hint="remove it from lint.acknowledge in schemac.yaml",
                )
            )
    return result


@dataclass(frozen=True)
class LintSettings:
    """The `lint:` block of schemac.yaml."""

    # The oldest PostgreSQL the migrations must be safe on; None: the project's postgres_version.
    pg_version: str | None = None
    acknowledge: tuple[Acknowledgement, ...] = ()
    # code -> severity: a team's own policy, e.g. missing timeouts as errors
    severity: tuple[tuple[str, Severity], ...] = ()

    def apply_severity(self, findings: list[Hazard]) -> list[Hazard]:
        chosen = dict(self.severity)
        return [replace(f, severity=chosen.get(f.code, f.severity)) for f in findings]


_LINT_KEYS = {"pg_version", "acknowledge", "severity"}
_ACK_KEYS = {"rule", "reason", "file", "line", "object"}


def parse_lint_settings(
    data: object, where: SourceLocation | None
) -> tuple[LintSettings, list[Diagnostic]]:
    """Check the `lint:` block; every problem is reported at its line."""
    if data is None:
        return LintSettings(), []
    if not isinstance(data, LocatedDict):
        return LintSettings(), [
            Diagnostic("E201", "'lint' must be a mapping (pg_version, acknowledge)", where)
        ]
    problems = _unknown(data, _LINT_KEYS)
    version = data.get("pg_version")
    if isinstance(version, bool) or not isinstance(version, int | float | str | None):
        version = ""
    text = str(version) if version is not None else None
    parts = (text or "15").split(".")
    if not (1 <= len(parts) <= 2 and all(p.isdigit() for p in parts) and int(parts[0]) >= 10):
        problems.append(
            Diagnostic(
                "E201",
                "'lint.pg_version' must be a PostgreSQL major version such as 15",
                data.value_locations.get("pg_version", data.location),
            )
        )
    acknowledgements: list[Acknowledgement] = []
    raw = data.get("acknowledge")
    if raw is None:
        raw = LocatedList()
    elif not isinstance(raw, LocatedList):
        problems.append(
            Diagnostic(
                "E201",
                "'lint.acknowledge' must be a list of {rule, reason, file, line, object}",
                data.value_locations.get("acknowledge", data.location),
            )
        )
        raw = LocatedList()
    for i, item in enumerate(raw):
        ack, item_problems = _acknowledgement(item, raw.item_locations[i])
        problems += item_problems
        if ack is not None:
            acknowledgements.append(ack)
    severity, severity_problems = _severities(data)
    problems += severity_problems
    return LintSettings(text, tuple(acknowledgements), severity), problems


def _severities(data: LocatedDict) -> tuple[tuple[tuple[str, Severity], ...], list[Diagnostic]]:
    raw = data.get("severity")
    if raw is None:
        return (), []
    if not isinstance(raw, LocatedDict):
        where = data.value_locations.get("severity", data.location)
        return (), [Diagnostic("E201", "'lint.severity' must map codes to a severity", where)]
    chosen: list[tuple[str, Severity]] = []
    problems: list[Diagnostic] = []
    names = [s.value for s in Severity]
    for code, value in raw.items():
        if value not in names:
            problems.append(
                Diagnostic(
                    "E201",
                    f"the severity of {code} must be one of {', '.join(names)}",
                    raw.value_locations[code],
                )
            )
        else:
            chosen.append((code, Severity(value)))
    return tuple(sorted(chosen)), problems


def _acknowledgement(
    item: object, where: SourceLocation
) -> tuple[Acknowledgement | None, list[Diagnostic]]:
    if not isinstance(item, LocatedDict):
        return None, [
            Diagnostic("E201", "an acknowledgement is a mapping {rule, reason, ...}", where)
        ]
    problems = _unknown(item, _ACK_KEYS)
    for key in ("rule", "reason"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.append(
                Diagnostic(
                    "E201",
                    f"an acknowledgement needs '{key}'"
                    + (": why the finding is accepted" if key == "reason" else ""),
                    item.value_locations.get(key, where),
                )
            )
    for key in ("file", "object"):
        if key in item and not isinstance(item[key], str):
            problems.append(
                Diagnostic("E201", f"'{key}' must be a string", item.value_locations[key])
            )
    line = item.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        problems.append(
            Diagnostic("E201", "'line' must be a positive integer", item.value_locations["line"])
        )
    if line is not None and "file" not in item:
        problems.append(Diagnostic("E201", "'line' needs 'file'", item.value_locations["line"]))
    if problems:
        return None, problems
    return (
        Acknowledgement(
            rule=item["rule"].strip(),
            reason=item["reason"].strip(),
            file=item.get("file"),
            line=line,
            object=item.get("object"),
            location=where,
        ),
        [],
    )


def _unknown(data: LocatedDict, allowed: set[str]) -> list[Diagnostic]:
    return [
        Diagnostic(
            "E103", f"unknown key '{key}'", data.key_locations[key], hint=did_you_mean(key, allowed)
        )
        for key in data
        if key not in allowed
    ]
