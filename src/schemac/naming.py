"""Identifier rules: quoting, the 63-byte limit, and the names PostgreSQL gives unnamed objects."""

from __future__ import annotations

from pglast import keywords

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1
_LOWER_START = frozenset("abcdefghijklmnopqrstuvwxyz_")
_LOWER_REST = _LOWER_START | frozenset("0123456789")
_NOT_BARE_KEYWORDS = frozenset(
    keywords.RESERVED_KEYWORDS | keywords.COL_NAME_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
)


def quote_ident(name: str) -> str:
    """Always quote: a name is never spliced raw into SQL."""
    return '"' + name.replace('"', '""') + '"'


def sql_name(name: str) -> str:
    """A name as PostgreSQL's quote_ident() writes it: bare when it reads back as itself
    (lower case letters, digits, underscores; not a keyword PostgreSQL reserves in any way),
    else quoted. Texts compared with the catalog's quote_ident() output use it."""
    plain = (
        name[:1] in _LOWER_START
        and all(c in _LOWER_REST for c in name)
        and name not in _NOT_BARE_KEYWORDS
    )
    return name if plain else quote_ident(name)


def quote_qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


# A part of a catalog label holding one of these is double-quoted: "a.b".c is not a."b.c".
_LABEL_AMBIGUOUS = frozenset('."')


def label_part(name: str) -> str:
    """A name part as the catalog model's labels show it: as it is, or double-quoted (inner
    quotes doubled, as PostgreSQL writes it) when it holds a dot or a quote, so that the parts of
    a label can be told apart. Ordinary names stay as they are in messages."""
    return quote_ident(name) if _LABEL_AMBIGUOUS & set(name) else name


def member_label(name: str, table_label: str) -> str:
    """``name on schema.table``: the label of a trigger, policy or foreign key of a table.

    The name is quoted as a label part is, and also when it holds `` on`` or ends the way
    `` on`` begins: trigger "x on a" on b.c is not trigger x on "a on b".c."""
    ambiguous = " on" in name or name.endswith((" ", " o"))
    return f"{quote_ident(name) if ambiguous else label_part(name)} on {table_label}"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def too_long(name: str) -> bool:
    return len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES


def _clip(text: str, max_bytes: int) -> str:
    # Clip at a character boundary, as PostgreSQL's pg_mbcliplen does.
    out = text.encode("utf-8")[:max_bytes]
    return out.decode("utf-8", errors="ignore")


def make_object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's makeObjectName: shorten the longer part first until the whole fits 63 bytes."""
    overhead = 0
    name2_len = 0
    if name2:
        name2_len = len(name2.encode("utf-8"))
        overhead += 1
    if label:
        overhead += len(label.encode("utf-8")) + 1
    available = MAX_IDENTIFIER_BYTES - overhead
    name1_len = len(name1.encode("utf-8"))
    while name1_len + name2_len > available:
        if name1_len > name2_len:
            name1_len -= 1
        else:
            name2_len -= 1
    result = _clip(name1, name1_len)
    if name2:
        result += "_" + _clip(name2, name2_len)
    if label:
        result += "_" + label
    return result


def default_constraint_name(table: str, columns: list[str], label: str) -> str:
    """`<table>_<col>_<col>_<label>` as PostgreSQL chooses it (label: key, fkey, check, excl, idx)."""
    return make_object_name(table, "_".join(columns) if columns else None, label)


def comment_safe(text: str) -> str:
    """`text` for an SQL `--` comment line: a line break in a name would end the comment and
    turn the rest of the name into SQL, so every character that is not printable is escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


_FILE_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def file_safe(name: str) -> str:
    """An object name as part of a file name: ASCII letters, digits and underscores as they
    are, every other character `_` (no path separators, spaces or control characters). The
    version number keeps two names that map to the same text apart."""
    return "".join(c if c in _FILE_SAFE else "_" for c in name)


def free_dollar_tag(text: str, word: str) -> str:
    """`$word$`, or `$word1$` ...: a dollar quote that `text` does not hold. A name is any text,
    so a fixed tag inside a DO block could be ended early by a name and the rest run as SQL."""
    tag, n = f"${word}$", 0
    while tag in text:
        n += 1
        tag = f"${word}{n}$"
    return tag
