"""What every command module of the command line shares: the typer app, the options, errors
mapped to messages and exit codes, progress and timings on stderr."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

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


def _warn(project: object) -> None:
    """Print the project's warnings (they never change the exit code)."""
    from schemac.advisories import project_warnings
    from schemac.model import Project

    assert isinstance(project, Project)
    for warning in project_warnings(project):
        _err(format_diagnostic(warning, relative_to=Path.cwd()))


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
