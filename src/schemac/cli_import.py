"""`schemac init` and `schemac import`: a project from nothing, or from a live database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemac.cli_common import ProjectOption, _err, _run, app


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
