"""The command line: a thin typer layer that calls the library, prints its results, picks the exit code."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from schemac import __version__
from schemac.diagnostics import format_diagnostic
from schemac.errors import InvalidInput, SchemacError

if TYPE_CHECKING:
    from schemac.diff import PlannedFile

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="schemac: PostgreSQL schemas declared in YAML, compiled to Flyway migrations.",
    pretty_exceptions_enable=False,
)

ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project", "-C", help="Project folder (default: found by walking up from here)."
    ),
]
DevUrlOption = Annotated[
    str | None,
    typer.Option(
        "--dev-url",
        help="PostgreSQL server for shadow databases (default: dev_url, "
        "$SCHEMAC_DEV_URL, else an embedded server).",
    ),
]
T = TypeVar("T")


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _run(action: Callable[[], T]) -> T:
    """Map library errors to messages and exit codes; never a traceback for a user's mistake."""
    try:
        return action()
    except InvalidInput as exc:
        root = Path.cwd()
        for diagnostic in exc.diagnostics:
            _err(format_diagnostic(diagnostic, relative_to=root))
        count = len(exc.diagnostics)
        _err(f"\n{count} error{'s' if count != 1 else ''}; nothing was written.")
        raise typer.Exit(exc.exit_code) from None
    except SchemacError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None
    except UnicodeError as exc:
        _err(f"error: a file is not valid UTF-8 ({exc}); restore it from version control")
        raise typer.Exit(2) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        _err(f"error: cannot use{where}: {exc.strerror or exc}")
        raise typer.Exit(3) from None
    except MemoryError:
        _err("error: out of memory (see docs/yaml-format.md, Limits, for what schemac bounds)")
        raise typer.Exit(3) from None
    except Exception as exc:  # a bug: still a message and an exit code, the traceback on request
        if os.environ.get("SCHEMAC_DEBUG"):
            raise
        _err(
            f"error: internal error ({type(exc).__name__}: {exc}); this is a bug in schemac, "
            "please report it (SCHEMAC_DEBUG=1 shows the traceback)"
        )
        raise typer.Exit(4) from None


def _writing(root: Path, writes: bool) -> contextlib.AbstractContextManager[None]:
    """The project lock around a command that writes generated/ (one writer at a time: two
    diffs at once would both write the next version)."""
    if not writes:
        return contextlib.nullcontext()
    from schemac.staging import project_lock

    command = " ".join(["schemac", *sys.argv[1:]])
    return project_lock(root, command)


def _baseline_prover(dev_url: str | None) -> Callable[[object], None]:
    def prove(compiled: object) -> None:
        from schemac.compiler import Compiled
        from schemac.prove import prove_baseline

        assert isinstance(compiled, Compiled)
        prove_baseline(compiled, dev_url, progress=lambda step: _progress(step, None))

    return prove


def _warn(project: object) -> None:
    """Print the project's warnings (they never change the exit code)."""
    from schemac.advisories import project_warnings
    from schemac.model import Project

    assert isinstance(project, Project)
    for warning in project_warnings(project):
        _err(format_diagnostic(warning, relative_to=Path.cwd()))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"schemac {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """schemac: PostgreSQL schemas declared in YAML, compiled to Flyway migrations."""


def _collector_off_for_the_process() -> None:
    """validate and compile run once and exit: with the cyclic garbage collector off for good,
    it never walks the compiled project (a pause of about 0.06 s at 1,000 tables), and nothing
    this short process allocates needs it (a compile leaves a few hundred cyclic objects)."""
    gc.disable()


@app.command()
def validate(project: ProjectOption = None) -> None:
    """Check the YAML (syntax, JSON Schema, references, names, cycles) and report every error."""
    from schemac.compiler import compile_project, open_project

    def action() -> int:
        _collector_off_for_the_process()
        settings = open_project(project)
        compiled = compile_project(settings)
        _warn(compiled.project)
        return len(compiled.objects)

    count = _run(action)
    typer.echo(f"ok: {count} objects, no errors")


@app.command(name="compile")
def compile_command(
    project: ProjectOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if generated/ is out of date.")
    ] = False,
    rebaseline: Annotated[
        bool,
        typer.Option(
            "--rebaseline",
            help="Rewrite the baseline migrations (only for a project no database has applied).",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Record a baseline without first applying it to a shadow database.",
        ),
    ] = False,
    dev_url: DevUrlOption = None,
) -> None:
    """Compile the YAML into generated/: the baseline migrations once, then the desired state and seeds."""
    from schemac.compiler import compile_project, open_project
    from schemac.emit import emit

    def action() -> tuple[int, object]:
        from schemac.importer.init import require_yaml

        _collector_off_for_the_process()
        settings = open_project(project)
        with _writing(settings.root, not check):
            require_yaml(settings)
            compiled = compile_project(settings)
            _warn(compiled.project)
            prove = None if offline else _baseline_prover(dev_url)
            return len(compiled.objects), emit(
                compiled, check=check, rebaseline=rebaseline, prove=prove
            )

    count, result = _run(action)
    from schemac.emit import EmitResult

    assert isinstance(result, EmitResult)
    if check:
        for path in result.out_of_date:
            typer.echo(f"out of date: generated/{path}")
        for message in result.messages:
            typer.echo(message)
        for problem in result.problems:
            typer.echo(f"problem: {problem}")
        if result.problems:
            raise typer.Exit(1)
        if result.out_of_date or result.migration_needed:
            typer.echo(
                "generated/ is out of date: run `schemac compile`" if result.out_of_date else ""
            )
            raise typer.Exit(1)
        typer.echo(f"generated/ is up to date ({count} objects)")
        return
    for path in result.written:
        typer.echo(f"wrote generated/{path}")
    if result.baseline_written and result.written:
        typer.echo("wrote the baseline migrations")
        if offline:
            _err("note: --offline: the baseline was recorded without applying it to a database")
    for message in result.messages:
        typer.echo(message)
    if not result.written:
        typer.echo(f"generated/ is up to date ({count} objects)")


@app.command(name="schema")
def schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of the YAML format (for editors and check-jsonschema)."""
    from schemac.emit import write_atomic
    from schemac.validate import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        target = output
        _run(lambda: write_atomic(target, text))
        typer.echo(f"wrote {output}")


def _machine_failure(output_format: str, exc: SchemacError) -> str:
    message = str(exc)
    if isinstance(exc, InvalidInput):
        message = "; ".join(
            f"{d.location.path.name}:{d.location.line}: {d.message}" if d.location else d.message
            for d in exc.diagnostics
        )
    if output_format == "json":
        document = {"ok": False, "exit_code": exc.exit_code, "findings": [], "error": message}
        return json.dumps(document, indent=2) + "\n"
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error title=schemac check::{escaped}\n"


def main() -> None:
    app()


# -- diff and check -------------------------------------------------------------------------------


def _progress(step: str, seconds: float | None) -> None:
    if seconds is None:
        _err(f"schemac: {step} ...")


def _timings_line(timings: dict[str, float], total: float) -> str:
    labels = {
        "server": "server start",
        "replay": "replay",
        "desired_state": "desired state",
        "migra": "migra",
        "facts": "catalog facts",
        "verify": "verification",
        "live": "live database",
    }
    parts = [f"{labels.get(key, key)} {value:.2f} s" for key, value in timings.items()]
    return f"schemac: timings: {', '.join([*parts, f'total {total:.2f} s'])}"


@app.command()
def diff(
    message: Annotated[
        str, typer.Option("--message", "-m", help="What changed; names the migration file.")
    ],
    project: ProjectOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the migration; write nothing.")
    ] = False,
    allow_destructive: Annotated[
        bool,
        typer.Option(
            "--allow-destructive",
            help="Allow statements that drop tables, columns, types or schemas, "
            "or narrow a column type.",
        ),
    ] = False,
    allow_rewrite: Annotated[
        bool,
        typer.Option(
            "--allow-rewrite",
            help="Allow statements that rewrite an existing table under ACCESS EXCLUSIVE "
            "(a column type change, a volatile default); docs/safety.md.",
        ),
    ] = False,
    dev_url: DevUrlOption = None,
) -> None:
    """Write the next migration: the difference between generated/migrations and the YAML."""
    import time

    from schemac.compiler import open_project
    from schemac.diff import DiffOutcome, diff_project

    started = time.perf_counter()

    def action() -> DiffOutcome:
        settings = open_project(project)
        with _writing(settings.root, not dry_run):
            return diff_project(
                settings,
                description=message,
                dry_run=dry_run,
                allow_destructive=allow_destructive,
                allow_rewrite=allow_rewrite,
                dev_url=dev_url,
                progress=_progress,
            )

    outcome = _run(action)
    for note in outcome.notes:
        _err(f"note: {note}")
    for warning in outcome.warnings:
        _err(f"warning: {warning}")
    _err(_timings_line(outcome.timings, time.perf_counter() - started))
    if outcome.refused:
        from schemac.plan_report import refusal_text

        _err(refusal_text(outcome.destructive, outcome.rewrites, allow_destructive, allow_rewrite))
        raise typer.Exit(2)
    if outcome.no_difference:
        typer.echo("no difference: the migrations already build what the YAML declares")
        if outcome.state_sum_updated:
            typer.echo(
                "integrity.json named an older desired state"
                + ("; it would be updated" if dry_run else "; updated it")
            )
        return
    for change in outcome.destructive:
        _err(f"warning: {change.reason} (allowed by --allow-destructive)")
    for planned in outcome.files:
        suffix = (
            "" if planned.transactional else "   (runs outside a transaction: .sql.conf beside it)"
        )
        typer.echo(f"-- generated/{planned.relative_path}{suffix}")
        typer.echo(planned.text)
    _lint_planned(project, outcome.files)
    if dry_run:
        typer.echo("dry run: nothing was written")
        return
    for path in outcome.written:
        typer.echo(f"wrote generated/{path}")


def _lint_planned(project: Path | None, files: list[PlannedFile]) -> None:
    """squawk's verdict on the migration diff writes, on stderr (docs/safety.md)."""
    from schemac.compiler import open_project
    from schemac.lint import lint_planned, render_text
    from schemac.plan_report import plan_hazards_text

    _err(plan_hazards_text(files).rstrip())
    try:
        planned = [(f.relative_path, f.text, f.transactional) for f in files]
        result = lint_planned(open_project(project), planned)
    except SchemacError as exc:
        _err(f"note: the migration was not linted: {exc}")
        return
    _err(render_text(result).rstrip())


@app.command()
def check(
    project: ProjectOption = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Only the checks that need no database: YAML, generated/, integrity."
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Also compare this live database with the YAML (read only) and its Flyway history.",
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="text, json or github (workflow annotations).")
    ] = "text",
    dev_url: DevUrlOption = None,
) -> None:
    """Fail when the YAML, generated/, the migrations or a database disagree. Exit 0 clean, 1 drift,
    2 invalid input, 3 environment failure."""
    import time

    if not offline:
        _start_shadow_early(project, dev_url)
    from schemac.check import CheckResult, check_project
    from schemac.compiler import open_project
    from schemac.report import FORMATS, render

    if output_format not in FORMATS:
        _err(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    if offline and db:
        _err("error: --offline and --db exclude each other")
        raise typer.Exit(2)
    started = time.perf_counter()

    def action() -> CheckResult:
        settings = open_project(project)
        try:
            return check_project(
                settings,
                offline=offline,
                db_url=db,
                dev_url=dev_url,
                progress=_progress if output_format == "text" else None,
            )
        except SchemacError as exc:
            # Tools reading json or github output still get a document that says what failed.
            if output_format != "text":
                sys.stdout.write(_machine_failure(output_format, exc))
            raise

    result = _run(action)
    sys.stdout.write(render(result, output_format))
    if output_format == "text" and not offline:
        _err(_timings_line(result.timings, time.perf_counter() - started))
    raise typer.Exit(result.exit_code)


def _start_shadow_early(project: Path | None, dev_url: str | None) -> None:
    """The project's warm shadow server starts while Python imports and runs the compiler."""
    import contextlib

    from schemac.project import find_project_root, load_settings
    from schemac.warm import warm_up

    with contextlib.suppress(SchemacError):  # the command reports it properly later
        settings = load_settings(find_project_root(project))
        warm_up(settings.root, settings.postgres_version, dev_url or settings.dev_url)


# -- the warm shadow server -----------------------------------------------------------------------

shadow_app = typer.Typer(
    no_args_is_help=True, help="The project's warm shadow PostgreSQL server (diff and check)."
)
app.add_typer(shadow_app, name="shadow")


@shadow_app.command("status")
def shadow_status(project: ProjectOption = None) -> None:
    """Say what runs for the project: version, port, data directory, idle time. Exit 1 if nothing."""
    from schemac.project import find_project_root
    from schemac.warm import warm_status

    status = _run(lambda: warm_status(find_project_root(project)))
    if status is None or not status.running:
        typer.echo("no shadow server runs for this project" + (" (stopped)" if status else ""))
        raise typer.Exit(1)
    typer.echo(
        f"shadow server: PostgreSQL {status.version} on 127.0.0.1:{status.port} (pid {status.pid})\n"
        f"data directory: {status.data_dir}\n"
        f"idle for {status.idle_seconds:.0f} s; stops after {status.idle_timeout:.0f} s idle"
    )


@shadow_app.command("stop")
def shadow_stop(project: ProjectOption = None) -> None:
    """Stop the project's warm shadow server and remove its data."""
    from schemac.project import find_project_root
    from schemac.warm import stop_warm

    stopped = _run(lambda: stop_warm(find_project_root(project)))
    if stopped is None or not stopped.running:
        typer.echo("no shadow server was running for this project")
        return
    typer.echo(f"stopped the shadow server (PostgreSQL {stopped.version}, port {stopped.port})")


@app.command()
def lint(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Migration files to lint (default: every one in generated/)."),
    ] = None,
    project: ProjectOption = None,
    output_format: Annotated[
        str, typer.Option("--format", help="text, json or github (workflow annotations).")
    ] = "text",
    base: Annotated[
        str | None,
        typer.Option(
            "--base", help="Also report what changed since the YAML at this git revision."
        ),
    ] = None,
    info: Annotated[bool, typer.Option("--info", help="List info findings too (text).")] = False,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Findings of migrations this database applied do not fail."),
    ] = None,
) -> None:
    """squawk on the migrations plus schemac's security rules (docs/safety.md). Exit 0 clean,
    1 error findings not acknowledged, 2 invalid input, 3 squawk or git failed."""
    from schemac.compiler import open_project
    from schemac.lint import FORMATS, LintResult, lint_project, render

    if output_format not in FORMATS:
        _err(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)

    def action() -> LintResult:
        try:
            return lint_project(open_project(project), files or (), base, db)
        except SchemacError as exc:
            if output_format != "text":
                sys.stdout.write(_machine_failure(output_format, exc))
            raise

    result = _run(action)
    sys.stdout.write(render(result, output_format, show_info=info))
    raise typer.Exit(result.exit_code)


@app.command()
def init(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Then import this live database (read only) into schema/."),
    ] = None,
) -> None:
    """Create a project in the current folder: schemac.yaml, schema/, the editor's JSON Schema."""
    from schemac.importer.init import init_project, next_steps, refuse_existing_project

    def action() -> None:
        root = Path.cwd()
        refuse_existing_project(root)
        created = init_project(root)
        for path in created.written:
            typer.echo(f"wrote {path.relative_to(root)}{'/' if path.is_dir() else ''}")
        if db is not None:
            _import_and_report(root, db, None)
        for line in next_steps(imported=db is not None):
            typer.echo(line)

    _run(action)


@app.command(name="import")
def import_command(
    db: Annotated[str, typer.Option("--db", help="The database to read (read only).")],
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="Import only this schema (repeatable; default: all)."),
    ] = None,
    project: ProjectOption = None,
) -> None:
    """Write a live database's schemas as YAML into the project's (empty) schema folder."""
    from schemac.compiler import open_project

    def action() -> None:
        settings = open_project(project)
        _import_and_report(settings.root, db, schema)

    _run(action)


def _import_and_report(root: Path, db: str, schemas: list[str] | None) -> None:
    from schemac.importer import import_database
    from schemac.project import load_settings

    result = import_database(load_settings(root), db, schemas)
    for path in result.written:
        typer.echo(f"wrote {path.relative_to(root)}")
    counts = ", ".join(f"{count} {kind}" for kind, count in result.counts.items())
    typer.echo(f"imported {counts}")
    for loss in result.losses:
        _err(f"warning: {loss}")
    if result.losses:
        _err(f"{len(result.losses)} attribute(s) the YAML cannot hold were not imported (above)")
