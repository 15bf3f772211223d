"""What a SQL text names: relations, functions and types, from its parse tree.

Comments and string literals are not in the tree, so a comment that mentions another schema's
table is no reference. The exceptions are the literals PostgreSQL itself reads as names: a
constant cast to regclass/regproc/regtype, and the sequence argument of nextval, currval and
setval (`nextval('app.seq')` depends on that sequence).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_sql, parser, visitors

_NAME_CASTS = {
    "regclass": "relation",
    "regproc": "function",
    "regprocedure": "function",
    "regtype": "type",
}
_SEQUENCE_FUNCTIONS = frozenset({"nextval", "currval", "setval"})


@dataclass(frozen=True, order=True)
class Reference:
    kind: str  # relation | function | type
    schema: str | None
    name: str


class _Collector(visitors.Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[Reference] = set()

    def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
        self.found.add(Reference("relation", node.schemaname, node.relname))

    def visit_FuncCall(self, ancestors: Any, node: Any) -> None:
        names = [n.sval for n in node.funcname]
        self.found.add(Reference("function", names[-2] if len(names) > 1 else None, names[-1]))
        if names[-1] in _SEQUENCE_FUNCTIONS and names[0] in (names[-1], "pg_catalog") and node.args:
            literal = _string_constant(node.args[0])
            if literal is not None:
                self._add_named(literal, "relation")

    def visit_ColumnRef(self, ancestors: Any, node: Any) -> None:
        # schema.table.column names the table even where FROM does not (a row's column).
        fields = [f.sval for f in node.fields if isinstance(f, ast.String)]
        if len(fields) >= 3 and len(fields) == len(node.fields):
            self.found.add(Reference("relation", str(fields[-3]), str(fields[-2])))

    def visit_TypeName(self, ancestors: Any, node: Any) -> None:
        names = [n.sval for n in node.names]
        if names[0] == "pg_catalog" or len(names) > 2:
            return
        self.found.add(Reference("type", names[0] if len(names) == 2 else None, names[-1]))

    def visit_TypeCast(self, ancestors: Any, node: Any) -> None:
        kind = _NAME_CASTS.get(node.typeName.names[-1].sval)
        literal = _string_constant(node.arg)
        if kind is not None and literal is not None:
            self._add_named(literal, kind)

    def _add_named(self, literal: str, kind: str) -> None:
        name = name_in_literal(literal)
        if name is not None:
            self.found.add(Reference(kind, *name))


def _string_constant(node: Any) -> str | None:
    if isinstance(node, ast.TypeCast):  # 'app.seq'::regclass inside nextval(...)
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None


@functools.lru_cache(maxsize=1024)
def name_in_literal(text: str) -> tuple[str | None, str] | None:
    """`app.seq` or `"App"."Seq"(int)` inside a literal: (schema, name), or None."""
    head = text.split("(", 1)[0]
    try:
        statements = parse_sql(f"TABLE {head}")
    except parser.ParseError:
        return None
    if len(statements) != 1:
        return None
    select = statements[0].stmt
    if not isinstance(select, ast.SelectStmt) or not select.fromClause:
        return None
    relation = select.fromClause[0]
    if not isinstance(relation, ast.RangeVar) or relation.catalogname:
        return None
    return relation.schemaname, str(relation.relname)


def tree_references(tree: Any) -> frozenset[Reference]:
    collector = _Collector()
    collector(tree)
    return frozenset(collector.found)


@functools.lru_cache(maxsize=4096)
def statement_references(text: str) -> frozenset[Reference]:
    """Everything the statements of `text` reference; empty when it does not parse."""
    try:
        return tree_references(parse_sql(text))
    except parser.ParseError:
        return frozenset()


@functools.lru_cache(maxsize=8192)
def expression_references(text: str) -> frozenset[Reference]:
    """Everything an expression references (parsed inside SELECT); empty when it does not parse."""
    return statement_references(f"SELECT {text}\n")
