"""Source positions and diagnostics: every error points at file:line:col of the YAML."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class SourceLocation(NamedTuple):
    """A 1-based position in a source file.

    A named tuple rather than a frozen dataclass: the loader makes one for every key and
    value of every file, and tuples are several times cheaper to create.
    """

    path: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the input, with where it is and how to fix it."""

    code: str
    message: str
    location: SourceLocation | None = None
    hint: str | None = None
    severity: str = field(default="error")

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.location is None:
            return ("", 0, 0, self.message)
        return (str(self.location.path), self.location.line, self.location.column, self.message)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close enough."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def format_diagnostic(diagnostic: Diagnostic, relative_to: Path | None = None) -> str:
    """Render a diagnostic as `file:line:col: error[CODE]: message`, the source line and a caret."""
    loc = diagnostic.location
    head = f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    if loc is None:
        text = head
    else:
        shown = loc.path
        if relative_to is not None:
            try:
                shown = loc.path.resolve().relative_to(relative_to.resolve())
            except ValueError:
                shown = loc.path
        text = f"{shown}:{loc.line}:{loc.column}: {head}"
        source_line = _read_line(loc.path, loc.line)
        if source_line is not None:
            gutter = f"{loc.line} | "
            caret_pad = " " * (len(gutter) + max(loc.column - 1, 0))
            text += f"\n{gutter}{source_line}\n{caret_pad}^"
    if diagnostic.hint:
        text += f"\n  hint: {diagnostic.hint}"
    return text


def _read_line(path: Path, line: int) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip()
    return None
