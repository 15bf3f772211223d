"""Source positions and diagnostics: every error points at file:line:col of the YAML."""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

_MAX_SHOWN_FILE_BYTES = 16 * 1024 * 1024


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
        shown = _shown_path(loc.path, relative_to) if relative_to is not None else loc.path
        text = f"{shown}:{loc.line}:{loc.column}: {head}"
        source_line = _read_line(loc.path, loc.line)
        if source_line is not None:
            gutter = f"{loc.line} | "
            caret_pad = " " * (len(gutter) + max(loc.column - 1, 0))
            text += f"\n{gutter}{source_line}\n{caret_pad}^"
    if diagnostic.hint:
        text += f"\n  hint: {diagnostic.hint}"
    return text


def _shown_path(path: Path, relative_to: Path) -> Path:
    """The path as the author named it, relative to `relative_to` where it lies below it. A
    symbolic link is shown as the link, not its target (which may not even exist)."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(relative_to))
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(relative_to.resolve())
    except (ValueError, OSError, RuntimeError):
        return path


def _read_line(path: Path, line: int) -> str | None:
    """The source line to show, when the path is a readable UTF-8 regular file of sane size
    (a diagnostic may be about a FIFO, a device or a file too large to read)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_SHOWN_FILE_BYTES:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip()
    return None
