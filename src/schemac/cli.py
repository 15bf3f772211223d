"""The command line: a thin typer layer that calls the library, prints its results, picks the exit code.

Each command group lives in a module of its own (``cli_compile``, ``cli_migrate``,
``cli_shadow``, ``cli_lint``, ``cli_import``), registered on the one app below in the order
``--help`` lists them. Every library import happens inside the command that needs it, so a
command pays only for its own (docs/benchmarks.md).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from schemac import __version__
from schemac.cli_common import app


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


def main() -> None:
    """The console script. Each command's own guard (cli_common._run) maps schemac's errors;
    this catches what escapes before a command reaches it, such as a library import that
    fails in an incomplete installation, so that nothing ends in a traceback."""
    # A command allocates mostly what lives to its end (the modules it imports, the model);
    # the cyclic collector's default pace (a pass every 700 allocations) walks them again
    # and again. Every 50,000 keeps cycles collected at a fraction of the cost (a warm check:
    # 7 % less CPU, docs/benchmarks.md).
    gc.set_threshold(50_000, 50, 100)
    try:
        app()
    except ImportError as exc:
        if os.environ.get("SCHEMAC_DEBUG"):
            raise
        sys.stderr.write(
            f"error: schemac's installation is incomplete ({exc}); reinstall it with its "
            "dependencies (pip install --force-reinstall schemac)\n"
        )
        raise SystemExit(3) from None
    except Exception as exc:  # a bug: still a message and an exit code
        if os.environ.get("SCHEMAC_DEBUG"):
            raise
        sys.stderr.write(
            f"error: internal error ({type(exc).__name__}: {exc}); this is a bug in schemac, "
            "please report it (SCHEMAC_DEBUG=1 shows the traceback)\n"
        )
        raise SystemExit(4) from None


# The command modules register their commands on ``app``; their order is --help's order.
# isort: off
from schemac import cli_compile  # noqa: E402
from schemac import cli_migrate  # noqa: E402
from schemac import cli_shadow  # noqa: E402
from schemac import cli_lint  # noqa: E402
from schemac import cli_import  # noqa: E402

# isort: on

__all__ = ["app", "cli_compile", "cli_import", "cli_lint", "cli_migrate", "cli_shadow", "main"]
