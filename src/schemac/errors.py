"""The library's error types; the CLI maps each to an exit code and prints it without a traceback."""

from __future__ import annotations

from pathlib import Path

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


def read_utf8(path: Path, what: str = "file") -> str:
    """A text file of the project (generated/ included) as text; an unreadable or non-UTF-8
    file is an error naming it, never a traceback."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, but schemac expects a {what} there") from None
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{path}:{line}: not valid UTF-8 ({exc.reason} at byte {exc.start}); "
            "restore the file from version control"
        ) from None
