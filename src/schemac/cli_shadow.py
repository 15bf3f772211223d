"""`schemac shadow status` and `schemac shadow stop`: the project's warm shadow server."""

from __future__ import annotations

import typer

from schemac.cli_common import ProjectOption, _run, app

shadow_app = typer.Typer(
    no_args_is_help=True, help="The project's warm shadow PostgreSQL server (diff and check)."
)
app.add_typer(shadow_app, name="shadow")


# What each slot's server builds (schemac.warm.SLOTS).
_SLOT_ROLES = {"a": "the migrations", "b": "the desired state"}


@shadow_app.command("status")
def shadow_status(project: ProjectOption = None) -> None:
    """Say what runs for the project: version, port, data directory, idle time. Exit 1 if nothing."""
    from schemac.project import find_project_root
    from schemac.warm import SLOTS, warm_status

    root = _run(lambda: find_project_root(project))
    statuses = _run(lambda: {slot: warm_status(root, slot) for slot in SLOTS})
    running = {slot: status for slot, status in statuses.items() if status and status.running}
    if not running:
        stopped = " (stopped)" if any(statuses.values()) else ""
        typer.echo(f"no shadow server runs for this project{stopped}")
        raise typer.Exit(1)
    for slot, status in running.items():
        typer.echo(
            f"shadow server for {_SLOT_ROLES[slot]}: PostgreSQL {status.version} on "
            f"127.0.0.1:{status.port} (pid {status.pid})\n"
            f"  data directory: {status.data_dir}\n"
            f"  idle for {status.idle_seconds:.0f} s; stops after {status.idle_timeout:.0f} s idle"
        )


@shadow_app.command("stop")
def shadow_stop(project: ProjectOption = None) -> None:
    """Stop the project's warm shadow servers and remove their data."""
    from schemac.project import find_project_root
    from schemac.warm import stop_warm

    stopped = [s for s in _run(lambda: stop_warm(find_project_root(project))) if s.running]
    if not stopped:
        typer.echo("no shadow server was running for this project")
        return
    for status in stopped:
        typer.echo(f"stopped the shadow server (PostgreSQL {status.version}, port {status.port})")
