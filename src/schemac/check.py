"""`schemac check`: is everything consistent? For CI and pre-commit hooks.

Offline: the YAML is valid, generated/ is what `schemac compile` would write, and every
migration is the one schemac recorded (not edited, deleted, renamed or renumbered, none added
by hand). With a shadow server: the migrations, replayed, build exactly what the YAML declares.
With ``--db``: a live database matches the YAML object by object (read in a READ ONLY
transaction, so a role that may only read the catalog is enough) and its Flyway history
agrees with generated/.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemac.catalog import ModelDifference
from schemac.compiler import Compiled, compile_project
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.drift import (
    Comparison,
    ObjectRef,
    Progress,
    Steps,
    build_shadows,
    integrity_problems,
    locate,
    postgres_errors,
    read_migrations,
    shadow_server,
)
from schemac.emit import emit
from schemac.errors import EnvironmentFailure, InvalidInput, UsageError
from schemac.lint import pending_migration_findings, start_pending_lint
from schemac.project import Settings
from schemac.role_drift import RoleSnapshot, declared_roles, role_differences
from schemac.shadow import redact
from schemac.verdict import compare_shadows
from schemac.warm import warm_up

# Categories, each with the exit code it leads to.
INVALID = "invalid"  # 2
ENVIRONMENT = "environment"  # 3
OUT_OF_DATE = "out-of-date"  # 1
INTEGRITY = "integrity"  # 1
DRIFT = "drift"  # 1
HISTORY = "history"  # 1


@dataclass(frozen=True)
class Finding:
    category: str
    message: str
    file: str | None = None  # relative to the project root, '/'-separated
    line: int | None = None
    column: int | None = None
    severity: str = "error"  # error | warning | notice
    code: str | None = None
    hint: str | None = None


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was checked, in order
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def exit_code(self) -> int:
        categories = {f.category for f in self.errors}
        if ENVIRONMENT in categories:
            return 3
        if INVALID in categories:
            return 2
        return 1 if categories else 0


def check_project(
    settings: Settings,
    *,
    offline: bool = False,
    db_url: str | None = None,
    dev_url: str | None = None,
    progress: Progress | None = None,
    warming: bool = False,
) -> CheckResult:
    """Run every check that applies; problems come back as findings, never as exceptions.
    ``warming``: the caller has started the warm server already (`warm.warm_up`)."""
    result = CheckResult()
    steps = Steps(progress)
    root = settings.root
    if not offline and not warming:  # the shadow server starts while the YAML compiles
        warm_up(root, settings.postgres_version, dev_url or settings.dev_url)
    squawk = start_pending_lint(settings)  # and squawk reads the migrations meanwhile
    try:
        try:
            compiled = compile_project(settings)
        except InvalidInput as invalid:
            result.findings += [_from_diagnostic(d, root) for d in invalid.diagnostics]
            return result
        result.checked.append("YAML")
        _check_generated(compiled, result)
        try:
            migrations = read_migrations(settings.generated_dir)
        except UsageError as error:
            result.findings.append(Finding(INTEGRITY, str(error)))
            return result
        result.findings += pending_migration_findings(settings, db_url, squawk)  # docs/safety.md
        if offline:
            return result
        with contextlib.ExitStack() as stack:
            stack.enter_context(postgres_errors("schemac check"))
            servers = stack.enter_context(
                shadow_server(dev_url or settings.dev_url, steps, settings)
            )
            try:
                shadows = build_shadows(servers, compiled, migrations, steps, planning=False)
            except InvalidInput as invalid:
                result.findings += [_from_diagnostic(d, root) for d in invalid.diagnostics]
                return result
            except UsageError as error:  # a migration that does not run
                result.findings.append(Finding(INTEGRITY, str(error), *_file_and_line(str(error))))
                return result
            comparison = compare_shadows(shadows, steps)
            _shadow_findings(compiled, shadows.roles, comparison, result)
            result.checked.append("migrations replayed on a shadow database")
            if db_url:
                with steps.step(f"reading {redact(db_url)}", "live"):
                    from schemac.check_live import check_live

                    check_live(compiled, migrations, db_url, shadows.desired_url, result, steps)
    except EnvironmentFailure as failure:
        result.findings.append(Finding(ENVIRONMENT, str(failure)))
    finally:
        if squawk is not None:
            squawk.close()
        result.timings = steps.timings
    return result


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _from_diagnostic(diagnostic: Diagnostic, root: Path) -> Finding:
    loc = diagnostic.location
    return Finding(
        INVALID,
        diagnostic.message,
        _relative(loc.path, root) if loc else None,
        loc.line if loc else None,
        loc.column if loc else None,
        diagnostic.severity,
        diagnostic.code,
        diagnostic.hint,
    )


def _at(compiled: Compiled, loc: SourceLocation | None) -> dict[str, Any]:
    if loc is None:
        return {}
    return {
        "file": _relative(loc.path, compiled.settings.root),
        "line": loc.line,
        "column": loc.column,
    }


def _file_and_line(message: str) -> tuple[str | None, int | None]:
    """``migrations/V002__x.sql, line 4: ...`` -> the file (relative to the root) and line."""
    head = message.split(":", 1)[0]
    name, _, line = head.partition(", line ")
    if not name.endswith(".sql"):
        return None, None
    return f"generated/{name}", int(line) if line.isdigit() else 1


# -- offline --------------------------------------------------------------------------------------


def _check_generated(compiled: Compiled, result: CheckResult) -> None:
    generated = compiled.settings.generated_dir
    prefix = _relative(generated, compiled.settings.root)
    try:
        emitted = emit(compiled, check=True)
    except UsageError as error:
        result.findings.append(Finding(INTEGRITY, str(error)))
    else:
        for path in emitted.out_of_date:
            result.findings.append(
                Finding(OUT_OF_DATE, "out of date: run `schemac compile`", f"{prefix}/{path}", 1)
            )
        if emitted.migration_needed:
            result.findings.append(
                Finding(
                    OUT_OF_DATE,
                    "the YAML changed since the last migration was written",
                    hint='run `schemac diff -m "<what changed>"` to write the next migration',
                )
            )
    for problem in integrity_problems(generated):
        result.findings.append(Finding(INTEGRITY, problem.message, f"{prefix}/{problem.file}", 1))
    if not any(f.category in (OUT_OF_DATE, INTEGRITY) for f in result.findings):
        result.checked.append("generated/ and integrity.json")


# -- shadow ---------------------------------------------------------------------------------------


def _shadow_findings(
    compiled: Compiled,
    roles: RoleSnapshot,
    comparison: Comparison,
    result: CheckResult,
) -> None:
    hint = 'run `schemac diff -m "<what changed>"` to write a migration for it'
    for name, (details, ref) in _by_object(comparison).items():
        result.findings.append(
            Finding(
                DRIFT,
                f"the migrations do not build what the YAML declares: {name}: {details}",
                hint=hint,
                **_at(compiled, locate(compiled, ref)),
            )
        )
    _warnings(compiled, comparison, result)
    declared = {role.name: role for role in declared_roles(compiled)}
    for name, details in _grouped(role_differences(roles.roles, declared.values())).items():
        result.findings.append(
            Finding(
                DRIFT,
                f"role {name}: no migration creates it as declared: {details}",
                hint=hint,
                **_at(compiled, declared[name].loc),
            )
        )


def _grouped(differences: list[ModelDifference]) -> dict[str, str]:
    """Role differences by role name: ``comment is ..., the YAML says ... | login is ...``."""
    grouped: dict[str, list[str]] = {}
    for difference in differences:
        grouped.setdefault(difference.name, []).append(_short(difference.detail()))
    return {name: " | ".join(details) for name, details in grouped.items()}


def _warnings(compiled: Compiled, comparison: Comparison, result: CheckResult) -> None:
    for warning in comparison.warnings:
        result.findings.append(
            Finding(
                DRIFT,
                f"{warning.object}: {warning.detail()}",
                severity="warning",
                **_at(compiled, locate(compiled, comparison.model_ref(warning))),
            )
        )


def _by_object(comparison: Comparison) -> dict[str, tuple[str, ObjectRef | None]]:
    """Differences grouped by the object they concern, in the order found, with the object."""
    grouped: dict[str, list[str]] = {}
    refs: dict[str, ObjectRef | None] = {}
    for difference in comparison.differences:
        grouped.setdefault(difference.object, []).append(_short(difference.detail))
        if refs.get(difference.object) is None:
            refs[difference.object] = difference.ref
    return {name: (" | ".join(details), refs[name]) for name, details in grouped.items()}


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 200 else one_line[:197] + "..."
