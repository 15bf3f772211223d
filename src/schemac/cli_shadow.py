"""`schemac shadow status` and `schemac shadow stop`: the project's warm shadow server."""

from __future__ import annotations

import typer

from schemac.cli_common import ProjectOption, _run, app

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
