"""`schemac lint`: squawk and schemac's security rules on the migrations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from schemac.cli_common import ProjectOption, _err, _machine_failure, _run, app
from schemac.errors import SchemacError


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
    from schemac.lint import FORMATS, LintResult, lint_project
    from schemac.lint_report import render

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
