"""The command line: a thin typer layer that calls the library, prints its results, picks the exit code."""

from __future__ import annotations

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


@app.command()
def validate(project: ProjectOption = None) -> None:
    """Check the YAML (syntax, JSON Schema, references, names, cycles) and report every error."""
    from schemac.compiler import compile_project, open_project

    def action() -> int:
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


def main() -> None:
    app()
