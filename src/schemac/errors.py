"""The library's error types; the CLI maps each to an exit code and prints it without a traceback."""

from __future__ import annotations

from schemac.diagnostics import Diagnostic


class SchemacError(Exception):
    """Base of every error schemac reports to a user."""

    exit_code = 2


class InvalidInput(SchemacError):
    """The project's YAML, settings or options are wrong; carries every diagnostic found."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = diagnostics


class UsageError(SchemacError):
    """A command was called in a way that cannot work (missing project, bad option)."""

    exit_code = 2


class EnvironmentFailure(SchemacError):
    """Something outside the project failed: a database unreachable, a server that did not start."""

    exit_code = 3
