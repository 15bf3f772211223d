"""`schemac diff` and `schemac check`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from schemac.cli_common import (
    DevUrlOption,
    ProjectOption,
    _err,
    _machine_failure,
    _progress,
    _run,
    _timings_line,
    _writing,
    app,
)
from schemac.errors import SchemacError

if TYPE_CHECKING:
    from schemac.diff import PlannedFile


@app.command()
def diff(
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", help="What changed; names the migration file."),
    ] = None,
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
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Instead: print the statements that bring this live database (read only) "
            "to the YAML, a repair script, never a migration.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --db: write the script here.")
    ] = None,
) -> None:
    """Write the next migration: the difference between generated/migrations and the YAML."""
    import time

    from schemac.compiler import open_project
    from schemac.diff import DiffOutcome, diff_project

    if db is not None:  # schemac.live_diff: the command's body lives there
        from schemac.live_diff import live_diff_command

        _run(lambda: live_diff_command(project, db, output, allow_destructive, dev_url, _progress))
        return
    if message is None or output is not None:
        _err("error: diff needs --message (-m); --output goes with --db")
        raise typer.Exit(2)
    description = message
    started = time.perf_counter()

    def action() -> DiffOutcome:
        settings = open_project(project)
        with _writing(settings.root, not dry_run):
            return diff_project(
                settings,
                description=description,
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
    from schemac.lint import lint_planned
    from schemac.lint_report import render_text
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

    warming = not offline and _start_shadow_early(project, dev_url)
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
                warming=warming,
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


def _start_shadow_early(project: Path | None, dev_url: str | None) -> bool:
    """The project's warm shadow server starts while Python imports and runs the compiler;
    False when the settings cannot be read (the command reports why, later)."""
    from schemac.project import find_project_root, load_settings
    from schemac.warm import warm_up

    try:
        settings = load_settings(find_project_root(project))
        warm_up(settings.root, settings.postgres_version, dev_url or settings.dev_url)
    except SchemacError:
        return False
    return True
