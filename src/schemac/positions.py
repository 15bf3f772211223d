"""Where a character of a YAML scalar's value sits in the file: line and column.

A parser's error offset points into the value YAML gave us; the scalar's style decides how that
maps back: a plain or quoted scalar on one line is its start column plus the offset (plus one
for the opening quote; an escape or a doubled quote counts once in the value, twice in the
file); a block scalar (`|`, `>`) starts on the next line, indented. Only used on the error
path, so it reads the file again rather than making the loader keep anything.
"""

from __future__ import annotations

from pathlib import Path

from schemac.diagnostics import SourceLocation

_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def _read_lines(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None


def value_offset_location(start: SourceLocation, offset: int) -> SourceLocation:
    """The position of character `offset` of the scalar whose value starts at `start`."""
    lines = _read_lines(start.path)
    if lines is None or not 1 <= start.line <= len(lines) or offset <= 0:
        return start
    line_index, column_index = start.line - 1, start.column - 1
    indicator = lines[line_index][column_index : column_index + 1]
    if indicator in ("|", ">"):
        found = _in_block(lines, line_index, column_index, offset, folded=indicator == ">")
    else:
        found = _in_flow(lines, line_index, column_index, offset, quote=indicator)
    if found is None:
        return start
    return SourceLocation(start.path, found[0] + 1, found[1] + 1)


def _in_flow(
    lines: list[str], line: int, column: int, offset: int, quote: str
) -> tuple[int, int] | None:
    """Walk a plain or quoted scalar, one value character at a time."""
    quoted = quote in ('"', "'")
    if quoted:
        column += 1
    remaining = offset
    while remaining > 0:
        text = lines[line]
        if column >= len(text.rstrip()) if not quoted else column >= len(text):
            # The value folds onto the next line: the line break is one space of the value.
            line += 1
            if line >= len(lines):
                return None
            column = len(lines[line]) - len(lines[line].lstrip(" \t"))
            remaining -= 1
            continue
        char = text[column]
        if quote == '"' and char == "\\":
            column += _ESCAPE_LENGTH.get(text[column + 1 : column + 2], 2)
        elif quote == "'" and text[column : column + 2] == "''":
            column += 2
        else:
            column += 1
        remaining -= 1
    return line, column


def _in_block(
    lines: list[str], line: int, column: int, offset: int, folded: bool
) -> tuple[int, int] | None:
    header = lines[line][column + 1 :].split("#", 1)[0].strip()
    digits = [c for c in header if c.isdigit()]
    content = line + 1
    indent: int | None = None
    if digits:
        parent = len(lines[line]) - len(lines[line].lstrip(" "))
        indent = parent + int(digits[0])
    else:
        for probe in lines[content:]:
            if probe.strip():
                indent = len(probe) - len(probe.lstrip(" "))
                break
    if indent is None:
        return None
    remaining = offset
    current = content
    while current < len(lines):
        body = lines[current][indent:]
        if remaining <= len(body):
            return current, indent + remaining
        # The line's characters and its line break (a newline, or a space when folded).
        remaining -= len(body) + 1
        current += 1
    return None
