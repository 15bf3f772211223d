"""Stage 6, emit: generated/ on disk. Atomic writes; a recorded migration is never rewritten.

Layout (Flyway's location is generated/migrations, so nothing else in generated/ is migrated):

    generated/migrations/V001__create_<schema>_schema.sql ...   versioned migrations
    generated/migrations/V00N__create_index_<name>.sql(.conf)   one per CONCURRENTLY index
    generated/seed-data/R__<nnn>_seed_<schema>.sql              idempotent upserts
    generated/desired-state.sql                                 the whole schema, for review and diffs
    generated/flyway.toml                                       Flyway configuration
    generated/integrity.json                                    every migration written, with sums
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from schemac import staging
from schemac.compiler import Compiled
from schemac.errors import EnvironmentFailure, UsageError, read_utf8
from schemac.generated_files import (
    DESIRED_STATE,
    FLYWAY_CONFIG,
    SEED_DIR,
    baseline_migrations,
    desired_state,
    flyway_config,
    relative_to_root,
    seed_files,
)
from schemac.project import Settings
from schemac.records import (
    INTEGRITY_FILE,
    MIGRATIONS_DIR,
    GeneratedFile,
    Integrity,
    is_interrupted_baseline,
    read_integrity,
    record,
    recorded_problems,
    sha256,
)


@dataclass
class EmitResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    out_of_date: list[str] = field(default_factory=list)  # --check: files that would change
    problems: list[str] = field(default_factory=list)  # --check: recorded migrations broken
    baseline_written: bool = False
    migration_needed: bool = False
    messages: list[str] = field(default_factory=list)


# -- writing ------------------------------------------------------------------------------------


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_mode() -> int:
    # mkstemp creates 0600 files; generated/ is read by Flyway, often as another user.
    return 0o666 & ~_current_umask()


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: readers never see half a file.
    An OS error (no such folder, read only, disk full) is an EnvironmentFailure naming the path."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            Path(tmp).unlink(missing_ok=True)


def existing_migrations(generated: Path) -> list[str]:
    folder = generated / MIGRATIONS_DIR
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(".sql")
    )


def commit_files(
    settings: Settings, files: list[GeneratedFile], removed: list[str] | None = None
) -> None:
    """The one way generated/ changes: every file of `files` (integrity.json last) and every
    removal in one step (staging.py), so a kill leaves the old or the new generated/. Callers
    hold the project lock (staging.project_lock) around reading and committing."""
    generated = settings.generated_dir
    try:
        staging.commit(
            settings.root,
            generated,
            {f.relative_path: f.text for f in files},
            list(removed or ()),
            _file_mode(),
        )
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(generated) else ""
        raise EnvironmentFailure(
            f"cannot write {generated}: {exc.strerror or exc}{where}; nothing was changed"
        ) from None


def _prepare(settings: Settings, check: bool) -> None:
    """generated/ must be a folder; a swap a killed run left half done is finished first
    (not by --check, which changes nothing)."""
    staging.check_writable_target(settings.generated_dir)
    if check:
        return
    try:
        staging.recover(settings.root, settings.generated_dir)
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot finish an interrupted write of {settings.generated_dir}: {exc.strerror or exc}"
        ) from None


def emit(
    compiled: Compiled,
    *,
    check: bool = False,
    rebaseline: bool = False,
    new_migrations: list[GeneratedFile] | None = None,
    record_state: bool = False,
    prove: Callable[[Compiled], None] | None = None,
) -> EmitResult:
    """Bring generated/ up to date (or, with check, only report what would change).

    `new_migrations` (diff): versioned files to add and record, committed in the same step as
    the rest; they and `record_state` make integrity.json name this YAML's desired state.
    `prove` is called with the compiled project before a baseline is recorded (prove.py)."""
    settings = compiled.settings
    generated = settings.generated_dir
    _prepare(settings, check)
    result = EmitResult()
    state = desired_state(compiled)
    state_sum = sha256(state)
    integrity = read_integrity(generated)
    present = existing_migrations(generated)
    files: list[GeneratedFile] = [
        *(new_migrations or ()),
        GeneratedFile(DESIRED_STATE, state),
        GeneratedFile(FLYWAY_CONFIG, flyway_config(compiled)),
        *seed_files(compiled),
    ]
    stale_seeds = _stale_seed_files(generated, {f.relative_path for f in files})
    baseline = baseline_migrations(compiled)
    if new_migrations and integrity is None:
        raise UsageError(
            f"{generated / INTEGRITY_FILE} is missing; restore it from version control"
        )
    torn = integrity is None and present and is_interrupted_baseline(generated, present, baseline)
    if integrity is None and present and not rebaseline and not torn:
        raise UsageError(
            f"{generated / MIGRATIONS_DIR} holds migrations but {generated / INTEGRITY_FILE} is missing; "
            f"restore it from version control (`git checkout -- {_shown(settings, generated / INTEGRITY_FILE)}`), "
            "or run `schemac compile --rebaseline` if no database has applied them"
        )
    removed: list[str] = []
    if rebaseline or integrity is None:
        files = baseline + files
        new_integrity, removed = _with_baseline(generated, present, baseline, state_sum)
        result.baseline_written = True
        if torn and check:
            raise UsageError(
                f"{generated / INTEGRITY_FILE} is missing and {generated / MIGRATIONS_DIR} holds "
                f"{', '.join(present)}: an earlier compile was interrupted before it recorded "
                "the baseline (the files are exactly this YAML's baseline); run `schemac compile` "
                "to complete it"
            )
        if torn:
            result.messages.append(
                "an earlier compile was interrupted before it recorded the baseline "
                f"({', '.join(present)} present, integrity.json missing); its files are exactly "
                "the baseline of this YAML, so the baseline was completed and recorded"
            )
    else:
        new_integrity = integrity
        _check_recorded(generated, integrity, present, check, result)
        if new_migrations:
            record(new_integrity, new_migrations)
        if new_migrations or record_state:
            new_integrity.desired_state_sha256 = state_sum
        if not result.problems and new_integrity.desired_state_sha256 != state_sum:
            result.migration_needed = True
            result.messages.append(
                'the YAML changed since the last migration: run `schemac diff -m "<what changed>"` '
                "to write the next migration"
            )
    files.append(GeneratedFile(INTEGRITY_FILE, new_integrity.to_text()))
    changed = _changed(generated, files, result)
    unsafe = placeholder_problems(changed)
    if unsafe:
        raise UsageError("; ".join(unsafe))
    gone = [*removed, *stale_seeds]
    if check:
        result.out_of_date += [f.relative_path for f in changed] + gone
        return result
    if prove is not None and result.baseline_written and changed:
        prove(compiled)
    commit_files(settings, changed, gone)
    result.written += [f.relative_path for f in changed]
    return result


def _with_baseline(
    generated: Path, present: list[str], baseline: list[GeneratedFile], state_sum: str
) -> tuple[Integrity, list[str]]:
    """The record of a (re)baseline, and the migration files present that it replaces."""
    new_integrity = Integrity(state_sum, {})
    record(new_integrity, baseline)
    wanted = {f.relative_path for f in baseline}
    removed = [
        f"{MIGRATIONS_DIR}/{name}{suffix}"
        for name in present
        for suffix in ("", ".conf")
        if f"{MIGRATIONS_DIR}/{name}" not in wanted
        and (generated / MIGRATIONS_DIR / (name + suffix)).exists()
    ]
    return new_integrity, removed


def _check_recorded(
    generated: Path, integrity: Integrity, present: list[str], check: bool, result: EmitResult
) -> None:
    """Recorded migrations deleted or edited: --check reports them, a compile refuses."""
    problems = recorded_problems(generated, integrity, present)
    if problems and not check:
        raise UsageError(
            "generated/migrations does not match integrity.json: " + "; ".join(problems)
        )
    result.problems += problems


def _changed(
    generated: Path, files: list[GeneratedFile], result: EmitResult
) -> list[GeneratedFile]:
    """The files whose text differs from what generated/ holds (the rest count as unchanged)."""
    changed: list[GeneratedFile] = []
    for f in files:
        target = generated / f.relative_path
        current = read_utf8(target) if target.is_file() else None
        if current == f.text:
            result.unchanged.append(f.relative_path)
        else:
            changed.append(f)
    return changed


def placeholder_problems(files: list[GeneratedFile]) -> list[str]:
    """Flyway replaces `${name}` in every file it reads: no byte of any written file may hold
    one (the per-object E501 check names the YAML; this one covers headers and names too)."""
    return [
        f"generated/{f.relative_path} would contain '${{' (line "
        f"{f.text[: f.text.index('${')].count(chr(10)) + 1}), which Flyway treats as a placeholder"
        for f in files
        if "${" in f.text
    ]


def _shown(settings: Settings, path: Path) -> str:
    return relative_to_root(path, settings.root)


def _stale_seed_files(generated: Path, wanted: set[str]) -> list[str]:
    folder = generated / SEED_DIR
    if not folder.is_dir():
        return []
    return sorted(
        f"{SEED_DIR}/{p.name}"
        for p in folder.iterdir()
        if p.is_file() and p.suffix == ".sql" and f"{SEED_DIR}/{p.name}" not in wanted
    )
