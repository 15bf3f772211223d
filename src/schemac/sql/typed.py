"""Fields that reach SQL but are not SQL: each is checked for what it is, else rejected.

A checked field is rendered as written, so each check accepts only spellings that are safe and
mean the same unquoted: lower-case names, numbers, operators.
"""

from __future__ import annotations

import functools
import math

from pglast import ast, enums, parse_sql, parser

from schemac.sql.parse import SqlError

_NAME_TOKENS = frozenset({"IDENT"})
_KEYWORD_KINDS = frozenset(
    {"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD", "RESERVED_KEYWORD"}
)


def _tokens(text: str) -> list[parser.Token] | None:
    try:
        return list(parser.scan(text))
    except parser.ParseError:
        return None


def _is_word(text: str, token: parser.Token, *, any_case: bool = False) -> bool:
    """A token that is a bare, lower-case word (identifier or keyword), not a quoted name."""
    word = text[token.start : token.end + 1]
    return (
        (token.name in _NAME_TOKENS or token.kind in _KEYWORD_KINDS)
        and not word.startswith(('"', "U&"))
        and (any_case or word == word.lower())
        and word.isascii()
    )


@functools.lru_cache(maxsize=1024)
def plain_name_error(text: str) -> SqlError | None:
    """None when `text` is one bare lower-case SQL word (a storage parameter's name, ...)."""
    tokens = _tokens(text)
    if not tokens or len(tokens) != 1 or tokens[0].start != 0 or tokens[0].end != len(text) - 1:
        return SqlError("not a single lower-case name", 0)
    if not _is_word(text, tokens[0]):
        return SqlError("not a single lower-case name", 0)
    return None


@functools.lru_cache(maxsize=1024)
def setting_name_error(name: str) -> SqlError | None:
    """None when `name` is a configuration parameter name: `search_path`, `myext.some_option`."""
    tokens = _tokens(name)
    if not tokens or tokens[0].start != 0 or tokens[-1].end != len(name) - 1:
        return SqlError("not a setting name", 0)
    for position, token in enumerate(tokens):
        if position % 2 == 1:
            if token.name != "ASCII_46":
                return SqlError("a setting name is words joined by dots", int(token.start))
        # Setting names are case-insensitive: PostgreSQL itself spells some `TimeZone`.
        elif not _is_word(name, token, any_case=True):
            return SqlError("each part of a setting name is a plain name", int(token.start))
        elif position and tokens[position - 1].end + 1 != token.start:
            return SqlError("a setting name has no spaces", int(token.start))
    if len(tokens) % 2 == 0 or any(
        tokens[i].end + 1 != tokens[i + 1].start for i in range(len(tokens) - 1)
    ):
        return SqlError("a setting name is words joined by dots, without spaces", 0)
    try:
        statements = parse_sql(f"SET {name} = 0")
    except parser.ParseError:
        return SqlError("not a setting name", 0)
    statement = statements[0].stmt
    if len(statements) != 1 or not isinstance(statement, ast.VariableSetStmt):
        return SqlError("not a setting name", 0)
    if statement.name != name.lower():
        return SqlError("not a setting name", 0)
    return None


def storage_value_sql(value: object) -> str | None:
    """A storage parameter's value as SQL, or None when it is not a number, boolean or word."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if plain_name_error(value) is None:
            return value
        tokens = _tokens(value)
        if (
            tokens
            and len(tokens) == 1
            and tokens[0].name in ("ICONST", "FCONST")
            and (tokens[0].start, tokens[0].end) == (0, len(value) - 1)
        ):
            return value
    return None


@functools.lru_cache(maxsize=512)
def operator_error(text: str) -> SqlError | None:
    """None when `text` is one binary operator: `=`, `&&`, `OPERATOR(pg_catalog.&&)`."""
    tokens = _tokens(text)
    if not tokens:
        return SqlError("not an operator", 0)
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            return SqlError("an operator cannot hold a comment", int(token.start))
    try:
        statements = parse_sql(f"SELECT 1 {text} 1")
    except parser.ParseError as exc:
        location = exc.args[1] if len(exc.args) > 1 and exc.args[1] is not None else 9
        return SqlError(f"not an operator ({exc.args[0]})", max(min(location - 9, len(text)), 0))
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return SqlError("not an operator", 0)
    select = statements[0].stmt
    targets = select.targetList or ()
    expression = targets[0].val if len(targets) == 1 else None
    if (
        select.fromClause
        or select.op != enums.SetOperation.SETOP_NONE
        or not isinstance(expression, ast.A_Expr)
        or expression.kind != enums.A_Expr_Kind.AEXPR_OP
        or not _is_one(expression.lexpr)
        or not _is_one(expression.rexpr)
    ):
        return SqlError("not one binary operator", 0)
    return None


def _is_one(node: object) -> bool:
    return (
        isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer) and node.val.ival == 1
    )
