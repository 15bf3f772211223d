"""Queries rewritten on their parse tree and printed back (pglast's RawStream)."""

from __future__ import annotations

import functools
from typing import Any

from pglast import ast, parse_sql, parser
from pglast.stream import RawStream
from pglast.visitors import Visitor

from schemac.sql.parse import SqlError, SqlSyntaxError


class _CallsAsTrue(Visitor):
    def __init__(self, function: str, literal: str) -> None:
        super().__init__()
        self.function = function
        self.literal = literal
        self.replaced = 0

    def visit_FuncCall(self, ancestors: Any, node: Any) -> Any:
        name = node.funcname[-1].sval if node.funcname else None
        if name != self.function or len(node.args or ()) < 2:
            return None
        if _string_literal(node.args[1]) != self.literal:
            return None
        self.replaced += 1
        return ast.A_Const(val=ast.Boolean(boolval=True))


def _string_literal(node: Any) -> str | None:
    """The value of `'x'` or `'x'::type`; None for anything else."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None


@functools.lru_cache(maxsize=64)
def calls_as_true(query: str, function: str, literal: str) -> tuple[str, int]:
    """`query` with every call `function(<any>, '<literal>'...)` replaced by TRUE, printed from
    the tree, and how many calls were replaced (the caller decides whether none is an error).
    Comments are not kept: the printed query is PostgreSQL's reading of it."""
    try:
        statements = parse_sql(query)
    except parser.ParseError as exc:
        raise SqlSyntaxError(SqlError(str(exc.args[0]), exc.args[1] or 0)) from None
    visitor = _CallsAsTrue(function, literal)
    printed = []
    for raw in statements:
        visitor(raw)
        if raw.stmt is not None:
            printed.append(str(RawStream()(raw.stmt)))
    return ";\n".join(printed), visitor.replaced
