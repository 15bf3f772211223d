"""`schemac validate`, `schemac compile` and `schemac schema`."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from schemac.cli_common import (
    DevUrlOption,
    ProjectOption,
    _err,
    _progress,
    _run,
    _warn,
    _writing,
    app,
)


def _baseline_prover(dev_url: str | None) -> Callable[[object], None]:
    def prove(compiled: object) -> None:
        from schemac.compiler import Compiled
        from schemac.prove import prove_baseline

        assert isinstance(compiled, Compiled)
        prove_baseline(compiled, dev_url, progress=lambda step: _progress(step, None))

    return prove


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
