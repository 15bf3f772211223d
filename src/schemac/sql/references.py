"""What a SQL text names: relations, functions and types, from its parse tree.

Comments and string literals are not in the tree, so a comment that mentions another schema's
table is no reference. The exceptions are the literals PostgreSQL itself reads as names: a
constant cast to regclass/regproc/regtype, and the sequence argument of nextval, currval and
setval (`nextval('app.seq')` depends on that sequence).

The tree walked is the parser's JSON form: the same nodes as pglast's `ast` classes (RangeVar,
FuncCall, TypeName, ColumnRef), without building a Python object for each, which would cost
many times the parse on a large schema.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from pglast import parser

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


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["String"]["sval"]) for item in items if "String" in item]


def _string_constant(node: Any) -> str | None:
    if isinstance(node, dict) and "TypeCast" in node:  # 'app.seq'::regclass inside nextval()
        node = node["TypeCast"].get("arg")
    if isinstance(node, dict) and "A_Const" in node and "sval" in node["A_Const"]:
        return str(node["A_Const"]["sval"].get("sval", ""))
    return None


def _visit(kind: str, node: dict[str, Any], found: set[Reference]) -> None:
    if kind == "RangeVar":
        found.add(Reference("relation", node.get("schemaname"), str(node.get("relname", ""))))
    elif kind == "FuncCall":
        names = _names(node.get("funcname", []))
        if not names:
            return
        found.add(Reference("function", names[-2] if len(names) > 1 else None, names[-1]))
        args = node.get("args") or []
        if names[-1] in _SEQUENCE_FUNCTIONS and names[0] in (names[-1], "pg_catalog") and args:
            _add_named(_string_constant(args[0]), "relation", found)
    elif kind == "TypeName":
        names = _names(node.get("names", []))
        if names and names[0] != "pg_catalog" and len(names) <= 2:
            found.add(Reference("type", names[0] if len(names) == 2 else None, names[-1]))
    elif kind == "TypeCast":
        names = _names(node.get("typeName", {}).get("names", []))
        cast_kind = _NAME_CASTS.get(names[-1]) if names else None
        if cast_kind is not None:
            _add_named(_string_constant(node.get("arg")), cast_kind, found)
    elif kind == "ColumnRef":
        # schema.table.column names the table even where FROM does not (a row's column).
        fields = node.get("fields", [])
        names = _names(fields)
        if len(names) >= 3 and len(names) == len(fields):
            found.add(Reference("relation", names[-3], names[-2]))


def _add_named(literal: str | None, kind: str, found: set[Reference]) -> None:
    name = name_in_literal(literal) if literal is not None else None
    if name is not None:
        found.add(Reference(kind, *name))


def _node_kind(key: str, value: dict[str, Any]) -> str:
    """A node's kind: its wrapper key, or, for a field typed as one kind of node (the JSON
    form does not wrap those: `"relation": {...}`, `"typeName": {...}`), its shape."""
    if key[:1].isupper():
        return key
    if "relname" in value:
        return "RangeVar"
    if "names" in value and "typemod" in value:
        return "TypeName"
    return key


def tree_references(tree: Any) -> frozenset[Reference]:
    """Every reference in a parse tree in the parser's JSON form."""
    found: set[Reference] = set()
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, dict):
                    _visit(_node_kind(key, value), value, found)
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(value)
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(found)


@functools.lru_cache(maxsize=1024)
def name_in_literal(text: str) -> tuple[str | None, str] | None:
    """`app.seq` or `"App"."Seq"(int)` inside a literal: (schema, name), or None."""
    try:
        # The name ends at the first `(` the lexer sees: one inside a quoted name is the name's.
        head = next((text[: t.start] for t in parser.scan(text) if t.name == "ASCII_40"), text)
        tree = json.loads(parser.parse_sql_json(f"TABLE {head}"))
    except parser.ParseError:
        return None
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        return None
    from_clause = statements[0]["stmt"].get("SelectStmt", {}).get("fromClause", [])
    relation = from_clause[0].get("RangeVar") if len(from_clause) == 1 else None
    if relation is None or "catalogname" in relation:
        return None
    return relation.get("schemaname"), str(relation["relname"])


@functools.lru_cache(maxsize=4096)
def statement_references(text: str) -> frozenset[Reference]:
    """Everything the statements of `text` reference; empty when it does not parse."""
    try:
        return tree_references(json.loads(parser.parse_sql_json(text)))
    except parser.ParseError:
        return frozenset()


@functools.lru_cache(maxsize=8192)
def expression_references(text: str) -> frozenset[Reference]:
    """Everything an expression references (parsed inside SELECT); empty when it does not parse."""
    return statement_references(f"SELECT {text}\n")
