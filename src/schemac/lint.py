"""`schemac lint`: squawk on the migrations schemac wrote plus schemac's own security rules,
one report (text, JSON or GitHub annotations), acknowledgements from schemac.yaml applied.

Exit codes: 0 no unacknowledged error, 1 at least one, 2 invalid input (YAML, settings, a file
that is not there), 3 squawk, git or the --db database could not be used.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from schemac import flyway
from schemac import model as m
from schemac.errors import EnvironmentFailure, InvalidInput, SchemacError, UsageError, read_utf8
from schemac.hazards import Hazard, Severity, acknowledge, relative_path
from schemac.lint_report import finding_code
from schemac.project import SETTINGS_FILE, Settings, load_settings
from schemac.security import security_hazards
from schemac.squawk import MigrationInput, SquawkRun, run_squawk
from schemac.tenant_policy_changes import compare_states

if TYPE_CHECKING:
    from schemac.check import Finding

FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class LintResult:
    root: Path
    files: tuple[str, ...]  # the migration files squawk read, relative to the root
    findings: tuple[Hazard, ...]
    base: str | None = None  # the git revision whose YAML was compared, if any
    yaml_checked: bool = True  # False: squawk on given migrations only

    @property
    def exit_code(self) -> int:
        return 1 if any(f.blocking for f in self.findings) else 0


def lint_project(
    settings: Settings,
    files: Sequence[Path] = (),
    base: str | None = None,
    db_url: str | None = None,
) -> LintResult:
    """Lint the migrations (`files`, or every one in generated/) and the model of the YAML;
    with `base`, also what changed since the YAML at that git revision; with `db_url`, the
    findings of migrations that database has applied no longer block (they cannot change)."""
    project = _model(settings)
    findings = security_hazards(project, settings.tenancy)
    if base is not None:
        findings += compare_states(_model_at(settings, base), project, settings.tenancy)
    migrations = _migration_inputs(settings, files)
    findings += run_squawk(migrations, settings.lint.pg_version or str(settings.postgres_version))
    findings = settings.lint.apply_severity(findings)
    findings = acknowledge(findings, settings.lint.acknowledge, settings.root)
    findings = _allowed_when_written(findings)
    if db_url is not None:
        findings = _applied_accepted(findings, migrations, db_url)
    return LintResult(
        root=settings.root,
        files=tuple(relative_path(f.path, settings.root) for f in migrations),
        findings=tuple(sorted(findings, key=Hazard.sort_key)),
        base=base,
    )


def lint_planned(settings: Settings, planned: Sequence[tuple[str, str, bool]]) -> LintResult:
    """squawk on migrations about to be written, or just written: (path relative to generated/,
    text, runs in a transaction). Findings point at the file's place in generated/; the
    project's acknowledgements apply (those matching nothing are not reported: only part of
    the migrations is read)."""
    with tempfile.TemporaryDirectory(prefix="schemac-lint-") as folder:
        inputs, real = [], {}
        for relative, text, in_transaction in planned:
            scratch = Path(folder) / relative
            scratch.parent.mkdir(parents=True, exist_ok=True)
            scratch.write_text(text, encoding="utf-8")
            inputs.append(MigrationInput(scratch, in_transaction))
            real[scratch] = settings.generated_dir / relative
        found = [
            replace(f, location=f.location._replace(path=real[f.location.path]))
            if f.location is not None and f.location.path in real
            else f
            for f in run_squawk(inputs, settings.lint.pg_version or str(settings.postgres_version))
        ]
    found = [
        f
        for f in acknowledge(
            settings.lint.apply_severity(found), settings.lint.acknowledge, settings.root
        )
        if f.code != "acknowledgement-unused"
    ]
    return LintResult(
        root=settings.root,
        files=tuple(relative_path(p, settings.root) for p in real.values()),
        findings=tuple(sorted(found, key=Hazard.sort_key)),
        yaml_checked=False,
    )


def start_pending_lint(settings: Settings) -> SquawkRun | None:
    """squawk started on generated/'s migrations for `pending_migration_findings`, while the
    caller goes on (None when generated/ cannot be read: that call then reports it)."""
    try:
        return _pending_run(settings)
    except (SchemacError, UnicodeError):  # a file that is not UTF-8 is named by the later call
        return None


def _pending_run(settings: Settings) -> SquawkRun:
    version = settings.lint.pg_version or str(settings.postgres_version)
    return SquawkRun(_migration_inputs(settings, ()), version)


def pending_migration_findings(
    settings: Settings, db_url: str | None, started: SquawkRun | None = None
) -> list[Finding]:
    """`schemac check`'s gate (category `hazard`, exit 1): squawk's error findings in the
    migrations of generated/ that are neither acknowledged (lint.acknowledge) nor applied to
    `db_url` (its Flyway history; without it, every migration counts). The YAML's own security
    rules stay `schemac lint`'s."""
    from schemac.check import Finding

    started = started or _pending_run(settings)
    migrations = started.files
    chosen = dict(settings.lint.severity)

    def may_block(found: Hazard) -> bool:
        # Context only lowers a severity and the project's choice replaces it, so what is
        # neither an error nor chosen to be one never blocks: left out before the parse.
        return chosen.get(found.code, found.severity) is Severity.ERROR

    found = started.findings(may_block)
    found = acknowledge(
        settings.lint.apply_severity(found), settings.lint.acknowledge, settings.root
    )
    found = _allowed_when_written(found)
    if db_url is not None and any(f.blocking for f in found):  # else no need to connect
        found = _applied_accepted(found, migrations, db_url)
    findings = []
    for hazard_found in sorted((f for f in found if f.blocking), key=Hazard.sort_key):
        loc = hazard_found.location
        about = f" ({hazard_found.object})" if hazard_found.object else ""
        findings.append(
            Finding(
                "hazard",
                hazard_found.message + about,
                relative_path(loc.path, settings.root) if loc else None,
                loc.line if loc else None,
                loc.column if loc else None,
                code=finding_code(hazard_found),
                hint=f"{hazard_found.hint or 'see docs/safety.md'}; or acknowledge it in "
                "schemac.yaml (lint.acknowledge)",
            )
        )
    return findings


def _allowed_when_written(findings: list[Hazard]) -> list[Hazard]:
    """Findings of a kind `schemac diff --allow-destructive` / `--allow-rewrite` allowed when it
    wrote the file (its header records it) are acknowledged, with that reason."""
    from schemac.migration_files import allowed_kinds

    kinds: dict[Path, frozenset[str]] = {}
    result = []
    for found in findings:
        loc = found.location
        if found.acknowledged is None and loc is not None and loc.path.is_file():
            if loc.path not in kinds:
                kinds[loc.path] = allowed_kinds(read_utf8(loc.path, "migration"))
            if found.kind in kinds[loc.path] or found.code in kinds[loc.path]:
                reason = f"{found.kind or found.code} allowed on the command line by schemac diff"
                found = replace(found, acknowledged=reason)
        result.append(found)
    return result


def _model(settings: Settings) -> m.Project:
    from schemac.compiler import validate_project

    project, _, diagnostics = validate_project(settings)
    errors = [d for d in diagnostics if d.severity == "error"]
    if project is None or errors:
        raise InvalidInput(errors or diagnostics)
    return project


def _migration_inputs(settings: Settings, files: Sequence[Path]) -> list[MigrationInput]:
    """The given files, or every Flyway migration schemac wrote (versioned and seeds), each
    with whether Flyway runs it in a transaction (its `.sql.conf`)."""
    if files:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise UsageError(f"no such migration file: {', '.join(missing)}")
        return [
            MigrationInput(
                f,
                flyway.read_script_config(f).get("executeInTransaction", "true").lower() != "false",
            )
            for f in files
        ]
    found: list[MigrationInput] = []
    for folder in (settings.generated_dir / "migrations", settings.generated_dir / "seed-data"):
        if folder.is_dir():
            found += [
                MigrationInput(f.path, f.execute_in_transaction)
                for f in flyway.scan_migrations(folder)
            ]
    return found


def _applied_accepted(
    findings: list[Hazard], migrations: list[MigrationInput], db_url: str
) -> list[Hazard]:
    """Findings in a file the database's Flyway history records as applied (a repeatable only
    with the same checksum) become acknowledged: an applied migration never changes."""
    from schemac.shadow import redact

    history = _schema_history(db_url)
    done = {(h.script, h.checksum) for h in history if h.success}
    versions = {h.script for h in history if h.success and h.version is not None}
    applied = {
        f.path.resolve()
        for f in migrations
        if f.path.name in versions or (f.path.name, flyway.file_checksum(f.path)) in done
    }
    reason = f"applied to {redact(db_url)}: an applied migration never changes"
    return [
        replace(f, acknowledged=reason)
        if f.acknowledged is None and f.location and f.location.path.resolve() in applied
        else f
        for f in findings
    ]


def _schema_history(db_url: str) -> list[flyway.AppliedMigration]:
    import psycopg

    from schemac.shadow import redact

    try:
        conn = psycopg.connect(db_url, autocommit=False, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise EnvironmentFailure(f"cannot connect to {redact(db_url)}: {error}".strip()) from None
    except psycopg.Error:  # a malformed URL: its text may hold the password, so it is not shown
        raise EnvironmentFailure(f"cannot connect to {redact(db_url)}: not a valid URL") from None
    with conn:
        conn.read_only = True
        try:
            # Flyway keeps its table in the first schema it manages (public unless configured).
            located = conn.execute(
                "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                " ON n.oid = c.relnamespace WHERE c.relname = %s AND c.relkind IN ('r', 'p')"
                " ORDER BY n.nspname <> 'public', n.nspname LIMIT 1",
                (flyway.DEFAULT_HISTORY_TABLE,),
            ).fetchone()
            return flyway.read_schema_history(conn, schema=str(located[0])) if located else []
        except psycopg.Error as error:
            raise EnvironmentFailure(
                f"{redact(db_url)}: cannot read {flyway.DEFAULT_HISTORY_TABLE}: {error}".strip()
            ) from None
        finally:
            conn.rollback()


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentFailure(f"git could not run: {exc}") from None
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


BASE_DIR = Path(".schemac") / "cache" / "base"  # git-ignored, like the file cache


def _model_at(settings: Settings, revision: str) -> m.Project:
    """The model of the YAML as it was at a git revision (its settings and schema folder).

    The revision's files are extracted under .schemac/cache/base/<commit>/ and kept: a commit
    never changes, and the compile's second core may still be writing that tree's file cache
    after this returns, so it must not be a folder that is deleted now."""
    commit = _git(settings.root, "rev-parse", "--verify", f"{revision}^{{commit}}").decode().strip()
    top = Path(_git(settings.root, "rev-parse", "--show-toplevel").decode().strip())
    inside = settings.root.resolve().relative_to(top.resolve())
    schema = settings.schema_dir.resolve().relative_to(settings.root.resolve())
    bases = settings.root / BASE_DIR
    tree = bases / commit
    if not (tree / inside / SETTINGS_FILE).is_file():
        archive = _git(
            top,
            "archive",
            "--format=tar",
            commit,
            "--",
            (inside / SETTINGS_FILE).as_posix(),
            (inside / schema).as_posix(),
        )
        if bases.is_dir():
            for old in bases.iterdir():
                shutil.rmtree(old, ignore_errors=True)  # one base at a time is kept
        bases.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{commit}.", dir=bases))
        import tarfile  # only for --base: 7 ms of every check's imports otherwise

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(scratch, filter="data")
        try:
            scratch.rename(tree)  # whole or not at all
        except OSError:  # another run extracted the same commit meanwhile
            shutil.rmtree(scratch, ignore_errors=True)
    try:
        return _model(load_settings(tree / inside))
    except InvalidInput as exc:
        raise UsageError(
            f"the YAML at {revision} does not validate ({len(exc.diagnostics)} error(s)): "
            "compare with a revision whose YAML compiles"
        ) from None


# -- reporters ------------------------------------------------------------------------------------
