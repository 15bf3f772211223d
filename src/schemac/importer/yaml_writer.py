"""A small YAML emitter that lays a document out the way a person writes schemac YAML.

PyYAML's dump picks one style for a whole document; schemac YAML mixes them: flow mappings for
short things (a column, a grant list), block style for tables and functions, ``>-`` for long
comments and ``|`` for SQL over several lines. Every scalar is written plain only when the
YAML loader reads it back as the same string (``yes``, ``1.0``, ``null``, ``a: b`` are quoted),
and the finished document is loaded again and compared with the data: a layout mistake is an
error here, never a changed schema.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from schemac.errors import SchemacError

try:  # the loader schemac reads YAML with (libyaml when present; the same results)
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

WIDTH = 100  # the line length flow collections and folded text are kept within
INDENT = 2
_ALIGN_LIMIT = 24  # keys longer than this are not padded (the column would drift too far right)


class Block(dict[str, Any]):
    """A mapping always written in block style (tables, functions: things a person reads)."""


class Aligned(Block):
    """A block mapping whose inline values start in one column (a table's columns)."""


class SpacedBlock(dict[str, Any]):
    """A block mapping with a blank line between its entries (the tables of a schema)."""


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


@functools.lru_cache(maxsize=65536)
def _plain_ok(text: str, flow: bool) -> bool:
    """Whether ``text`` may be written unquoted where it stands and still read back as itself."""
    if not text or text != text.strip() or "\n" in text or not text.isprintable():
        return False
    if text[0] in "!&*|>'\"%@`#,[]{}?:-" and not (text[0] == "-" and text[1:2].isalnum()):
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    try:
        as_value = _load(f"k: {text}\n")
        as_key = _load(f"{text}: 1\n")
        as_item = _load(f"[{text}]\n") if flow else [text]
        as_flow_value = _load(f"{{k: {text}}}\n") if flow else {"k": text}
    except yaml.YAMLError:
        return False
    return (
        as_value == {"k": text}
        and as_key == {text: 1}
        and as_item == [text]
        and as_flow_value == {"k": text}
    )


def _quoted(text: str) -> str:
    if text.isprintable() and "'" in text and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return '"' + "".join(_escaped(c) for c in text) + '"'


_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _escaped(char: str) -> str:
    """One character inside YAML double quotes: what is not printable as an escape (YAML reads
    U+2028 and U+0085 as line breaks, which JSON would leave raw)."""
    if char in '"\\':
        return "\\" + char
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def scalar(value: Any, flow: bool = False) -> str:
    """One scalar on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 floats need the dot
        return text
    text = str(value)
    return text if _plain_ok(text, flow) else _quoted(text)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _flow(value: Any) -> str | None:
    """The flow form of ``value`` when it has one (no block mapping, no text over lines)."""
    if isinstance(value, (Block, SpacedBlock)):
        return None
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            inner = _flow(item)
            if inner is None:
                return None
            parts.append(f"{scalar(key, True)}: {inner}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        items = [_flow(item) for item in value]
        if any(item is None for item in items):
            return None
        return "[" + ", ".join(item for item in items if item is not None) + "]"
    if isinstance(value, str) and "\n" in value:
        return None
    return scalar(value, True)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _folded(text: str, indent: int) -> list[str] | None:
    """``>-`` lines for a long one-line text, broken at single spaces; None when it cannot fold."""
    if "\n" in text or not text.isprintable() or text != text.strip() or len(text) < 40:
        return None
    room = max(WIDTH - indent, 40)
    lines: list[str] = []
    start = 0
    while len(text) - start > room:
        cut = text.rfind(" ", start, start + room + 1)
        while cut > start and (text[cut - 1] == " " or text[cut + 1 : cut + 2] == " "):
            cut = text.rfind(" ", start, cut)
        if cut <= start:
            break
        lines.append(text[start:cut])
        start = cut + 1
    lines.append(text[start:])
    return lines


def _literal(text: str, indent: int) -> list[str] | None:
    """``|`` lines for a text over several lines; None when a literal block cannot hold it."""
    if any(not (c.isprintable() or c in "\n\t") for c in text) or "\r" in text:
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if not body.strip() or trailing > 1:
        return None  # a kept (|+) block would swallow the blank line that follows it
    chomp = "-" if trailing == 0 else ""
    first = next(line for line in body.split("\n") if line.strip())
    indicator = str(INDENT) if first[:1] in (" ", "\t") else ""
    pad = " " * indent
    lines = [f"|{indicator}{chomp}"]
    for line in body.split("\n"):
        lines.append(pad + line if line else "")
    return lines


def _text_value(text: str, indent: int, column: int) -> list[str]:
    """A string value: one line if it fits or must, else folded or literal lines."""
    if "\n" in text:
        literal = _literal(text, indent)
        if literal is not None:
            return literal
        return [_quoted(text)]
    single = scalar(text)
    if column + len(single) <= WIDTH:
        return [single]
    folded = _folded(text, indent)
    if folded is None:
        return [single]
    return [">-", *(" " * indent + line for line in folded)]


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def mapping(self, data: dict[str, Any], indent: int) -> None:
        pad = " " * indent
        inline = {k: self._inline(k, v, indent) for k, v in data.items()}
        width = 0
        if isinstance(data, Aligned):
            keys = [scalar(k) for k, v in inline.items() if v is not None]
            width = max((len(k) for k in keys if len(k) <= _ALIGN_LIMIT), default=0)
        for position, (key, value) in enumerate(data.items()):
            if isinstance(data, SpacedBlock) and position:
                self.lines.append("")
            head = f"{pad}{scalar(key)}:"
            text = inline[key]
            if text is not None:
                gap = " " * max(width - len(scalar(key)) + 1, 1)
                self.lines.append(f"{head}{gap}{text}")
            elif isinstance(value, str):
                parts = _text_value(value, indent + INDENT, len(head) + 1)
                self.lines.append(f"{head} {parts[0]}")
                self.lines.extend(parts[1:])
            else:
                self.lines.append(head)
                self.block(value, indent + INDENT)

    def _inline(self, key: Any, value: Any, indent: int) -> str | None:
        """``value`` on the key's line, when it is short enough to read that way."""
        if isinstance(value, str):
            single = scalar(value)
            fits = indent + len(scalar(key)) + 2 + len(single) <= WIDTH
            return single if "\n" not in value and fits else None
        if _is_scalar(value):
            return scalar(value)
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        if _depth(value) > 2:
            return None
        text = _flow(value)
        if text is None or indent + len(scalar(key)) + 2 + len(text) > WIDTH:
            return None
        return text

    def sequence(self, data: list[Any], indent: int) -> None:
        pad = " " * indent
        for item in data:
            if isinstance(item, dict) and item:
                text = None if isinstance(item, Block) or _depth(item) > 2 else _flow(item)
                if text is not None and indent + 2 + len(text) <= WIDTH:
                    self.lines.append(f"{pad}- {text}")
                    continue
                start = len(self.lines)
                self.mapping(item, indent + INDENT)
                self.lines[start] = f"{pad}- " + self.lines[start][indent + INDENT :]
            elif isinstance(item, list) and item:
                text = _flow(item)
                if text is None:
                    raise SchemacError("internal error: a nested block sequence in the YAML writer")
                self.lines.append(f"{pad}- {text}")
            elif isinstance(item, str):
                parts = _text_value(item, indent + INDENT, indent + 2)
                self.lines.append(f"{pad}- {parts[0]}")
                self.lines.extend(parts[1:])
            else:
                self.lines.append(f"{pad}- {_flow(item)}")

    def block(self, value: Any, indent: int) -> None:
        if isinstance(value, dict):
            self.mapping(value, indent)
        else:
            self.sequence(value, indent)


def plain(value: Any) -> Any:
    """The data as plain dicts and lists (what the loader gives back)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dump_document(data: dict[str, Any], header: list[str], *, spaced: bool = True) -> str:
    """One YAML document: ``header`` comment lines, then ``data`` (top-level sections apart)."""
    emitter = _Emitter()
    emitter.lines.extend(f"# {line}" if line else "#" for line in header)
    previous_block = False
    for position, (key, value) in enumerate(data.items()):
        chunk = _Emitter()
        chunk.mapping({key: value}, 0)
        is_block = len(chunk.lines) > 1 and not isinstance(value, str)
        if spaced and position and (is_block or previous_block):
            emitter.lines.append("")
        emitter.lines.extend(chunk.lines)
        previous_block = is_block
    text = "\n".join(emitter.lines) + "\n"
    loaded = _load(text)
    if loaded != plain(data):
        raise SchemacError(
            "internal error: the YAML writer's output does not read back as the data; "
            "please report it with the database's schema"
        )
    return text
