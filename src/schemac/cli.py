"""The command line: a thin typer layer that calls the library, prints its results, picks the exit code."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from schemac import __version__
from schemac.diagnostics import format_diagnostic
from schemac.errors import InvalidInput, SchemacError

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
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


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
) -> None:
    """Compile the YAML into generated/: the baseline migrations once, then the desired state and seeds."""
    from schemac.compiler import compile_project, open_project
    from schemac.emit import emit

    def action() -> tuple[int, object]:
        _collector_off_for_the_process()
        settings = open_project(project)
        compiled = compile_project(settings)
        return len(compiled.objects), emit(compiled, check=check, rebaseline=rebaseline)

    count, result = _run(action)
    from schemac.emit import EmitResult

    assert isinstance(result, EmitResult)
    if check:
        for path in result.out_of_date:
            typer.echo(f"out of date: generated/{path}")
        for message in result.messages:
            typer.echo(message)
        if result.out_of_date or result.migration_needed:
            typer.echo(
                "generated/ is out of date: run `schemac compile`" if result.out_of_date else ""
            )
            raise typer.Exit(1)
        typer.echo(f"generated/ is up to date ({count} objects)")
        return
    for path in result.written:
        typer.echo(f"wrote generated/{path}")
    if result.baseline_written:
        typer.echo("wrote the baseline migrations")
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
        write_atomic(output, text)
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

DevUrlOption = Annotated[
    str | None,
    typer.Option(
        "--dev-url",
        help="PostgreSQL server for shadow databases (default: dev_url, "
        "$SCHEMAC_DEV_URL, else an embedded server).",
    ),
]


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
    dev_url: DevUrlOption = None,
) -> None:
    """Write the next migration: the difference between generated/migrations and the YAML."""
    import time

    from schemac.compiler import open_project
    from schemac.diff import DiffOutcome, diff_project

    started = time.perf_counter()

    def action() -> DiffOutcome:
        settings = open_project(project)
        return diff_project(
            settings,
            description=message,
            dry_run=dry_run,
            allow_destructive=allow_destructive,
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
        _err("refused: the migration would lose data:")
        for change in outcome.destructive:
            _err(f"  - {change.reason}\n      {change.statement.splitlines()[0]}")
        _err(
            "Nothing was written. Check the YAML (a rename needs `renamed_from:`), or pass "
            "--allow-destructive if the loss is intended."
        )
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
    if dry_run:
        typer.echo("dry run: nothing was written")
        return
    for path in outcome.written:
        typer.echo(f"wrote generated/{path}")


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
