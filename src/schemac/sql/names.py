"""Names as PostgreSQL's lexer reads them: quoted identifiers unquoted, dotted names split.

For texts that are names, not statements: a qualified name from a statement, an identity
pg_identify_object printed, an object label schemac wrote (`trigger touch on core.users`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import parser


def _tokens(text: str) -> list[str] | None:
    """Each token of `text` as written ('.' included), quoted identifiers unquoted; None when
    PostgreSQL's lexer rejects the text (an unterminated quote)."""
    try:
        scanned = parser.scan(text)
    except parser.ParseError:
        return None
    out = []
    for token in scanned:
        written = text[token.start : token.end + 1]
        if written.startswith('"') and written.endswith('"') and len(written) > 1:
            written = written[1:-1].replace('""', '"')
        out.append(written)
    return out


def unquote(name: str) -> str:
    """``"core"."users"`` or ``core.users`` as ``core.users``: each part unquoted, joined by dots.

    Words separated by spaces are parts too (``table core.users`` is ``table.core.users``), so
    two labels compare equal exactly when their names do, however they were quoted.
    """
    tokens = _tokens(name)
    if tokens is None:
        return name.strip()
    return ".".join(t for t in tokens if t != ".")


def name_tokens(text: str) -> tuple[str, ...]:
    """The words and name parts of a label, quotes removed, '.' kept between parts: `"a.b".c`
    is ("a.b", ".", "c") and `a."b.c"` is ("a", ".", "b.c"), however either was quoted."""
    return tuple(_tokens(text) or text.split())


@dataclass(frozen=True)
class LabelNames:
    """The names in an object label: `trigger touch on core.users` has member `touch` of the
    table `core.users`; `index core.users_email` has the qualified name `core.users_email`."""

    words: tuple[str, ...]  # the label's leading words before the first name: ("trigger",)
    qualified: tuple[str, ...]  # every dotted name, unquoted: ("core.users",)
    member: str | None = None  # the name before ` on <qualified>`
    table: str | None = None  # the qualified name after ` on `
    # The same names as their parts, for lookups: a part may contain dots ("app.v2"."t").
    qualified_parts: tuple[tuple[str, ...], ...] = field(default=(), compare=False)
    table_parts: tuple[str, ...] | None = field(default=None, compare=False)


def label_names(label: str) -> LabelNames:
    """The words and names of a label such as ``comment on view core.v`` or ``touch on core.t``."""
    tokens = _tokens(label) or label.split()
    # Group dotted names: a token followed by '.' and another token is one qualified name.
    names: list[list[str]] = []
    joined = False
    for token in tokens:
        if token == ".":
            joined = bool(names)
            continue
        if joined:
            names[-1].append(token)
        else:
            names.append([token])
        joined = False
    qualified = tuple(".".join(parts) for parts in names if len(parts) > 1)
    words = []
    for parts in names:
        if len(parts) > 1:
            break
        words.append(parts[0])
    member = table = None
    table_parts: tuple[str, ...] | None = None
    for before, on, after in zip(names, names[1:], names[2:], strict=False):
        if len(before) == 1 and on == ["on"] and len(after) > 1:
            member, table, table_parts = before[0], ".".join(after[:2]), tuple(after[:2])
            break
    chains = tuple(tuple(p) for p in names if len(p) > 1)
    return LabelNames(tuple(words), qualified, member, table, chains, table_parts)


class NameChainError(ValueError):
    """A reference that is not a dotted chain of names; `offset` is where it goes wrong."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class NameChain:
    """A reference as the YAML writes it in SQL's syntax: `app.users`, `"My Schema"."My Table"`,
    with an optional column in parentheses (`app.users(id)`)."""

    parts: tuple[str, ...]
    column: str | None = None


def parse_name_chain(text: str, *, max_parts: int = 2, column: bool = False) -> NameChain:
    """`text` read by PostgreSQL's lexer as `name[.name...][(column)]`.

    A part in double quotes is the text inside (`""` a quote); an unquoted part is lower case
    as written, because PostgreSQL would fold `Users` to `users` while the YAML's keys are the
    names themselves: the author writes `"Users"` to mean the table `Users:` declares."""
    try:
        scanned = parser.scan(text)
    except parser.ParseError as exc:
        raise NameChainError(f"not a name: {exc.args[0]}", 0) from None
    names: list[str] = []
    in_column = closed = False
    column_name: str | None = None
    expect_name = True
    for token in scanned:
        written = text[token.start : token.end + 1]
        if closed:
            raise NameChainError(f"unexpected {written!r} after the column", token.start)
        if expect_name:
            name = _chain_part(token.name, written, token.start)
            if in_column:
                column_name = name
            else:
                names.append(name)
            expect_name = False
        elif written == "." and not in_column and len(names) < max_parts:
            expect_name = True
        elif written == "(" and column and not in_column:
            in_column = expect_name = True
        elif written == ")" and in_column and column_name is not None:
            in_column, closed = False, True
        else:
            raise NameChainError(f"unexpected {written!r} in a name", token.start)
    if expect_name or in_column:
        raise NameChainError("the name is incomplete", len(text))
    return NameChain(tuple(names), column_name)


def _chain_part(token: str, written: str, offset: int) -> str:
    if written.startswith('"'):
        return written[1:-1].replace('""', '"')  # the lexer refuses `""`
    if token == "UIDENT" or not (written[:1].isalpha() or written[:1] == "_"):
        raise NameChainError(f"{written!r} is not a name", offset)
    if written != written.lower():
        quoted = '"' + written.replace('"', '""') + '"'
        raise NameChainError(
            f"PostgreSQL reads the unquoted {written!r} as {written.lower()!r}; "
            f"write {quoted} (in double quotes) for the name with upper case",
            offset,
        )
    return written
