"""Policy predicates and view queries read as parse trees (pglast), never as text: whether a
predicate keeps each organisation to its own rows, and which relations a query reads.

A predicate isolates tenants when it implies `<column> = ... current_setting('<tenancy.setting>'
...) ...` (an AND with such a term counts; an OR could let other rows in).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import pglast
from pglast import ast

from schemac import model as m
from schemac.project import Tenancy


@lru_cache(maxsize=4096)
def parse_expression(sql: str) -> ast.Node | None:
    """The parse tree of one SQL expression; None if it does not parse as one (the compiler
    reports that; a hazard check never guesses)."""
    try:
        statements = pglast.parse_sql(f"SELECT ({sql})")
    except pglast.parser.ParseError:
        return None
    select = statements[0].stmt
    if len(statements) != 1 or not isinstance(select, ast.SelectStmt) or not select.targetList:
        return None
    target = select.targetList[0]
    return target.val if isinstance(target, ast.ResTarget) else None


def is_constant_true(sql: str | None) -> bool:
    node = parse_expression(sql) if sql is not None else None
    return (
        isinstance(node, ast.A_Const)
        and isinstance(node.val, ast.Boolean)
        and node.val.boolval is True
    )


def _nodes(node: object) -> Iterator[ast.Node]:
    """Every node of a parse tree, depth first."""
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _nodes(item)


def _last_name(names: tuple[ast.String, ...] | None) -> str | None:
    return str(names[-1].sval) if names else None


def _reads_setting(node: ast.Node, setting: str) -> bool:
    for inner in _nodes(node):
        if not isinstance(inner, ast.FuncCall) or _last_name(inner.funcname) != "current_setting":
            continue
        first = inner.args[0] if inner.args else None
        if (
            isinstance(first, ast.A_Const)
            and isinstance(first.val, ast.String)
            and first.val.sval == setting
        ):
            return True
    return False


def implies_tenant(node: ast.Node | None, setting: str) -> bool:
    """The predicate holds only for rows whose column equals the tenant setting: a tenant
    equality, or an AND with one among its terms (an OR could let other rows in)."""
    if isinstance(node, ast.BoolExpr) and node.boolop == pglast.enums.BoolExprType.AND_EXPR:
        return any(implies_tenant(arg, setting) for arg in node.args or ())
    if not (
        isinstance(node, ast.A_Expr)
        and node.kind == pglast.enums.A_Expr_Kind.AEXPR_OP
        and [n.sval for n in node.name or ()] == ["="]
    ):
        return False
    sides = (node.lexpr, node.rexpr)
    return any(
        isinstance(column, ast.ColumnRef)
        and isinstance(other, ast.Node)
        and _reads_setting(other, setting)
        for column, other in (sides, sides[::-1])
    )


def isolates_tenants(policy: m.Policy, tenancy: Tenancy) -> bool:
    """A policy for every command whose predicates keep each organisation to its own rows."""
    if policy.command != "all" or policy.using is None:
        return False
    checks = [policy.using] if policy.with_check is None else [policy.using, policy.with_check]
    return all(implies_tenant(parse_expression(sql), tenancy.setting) for sql in checks)


def tenant_tables(project: m.Project, tenancy: Tenancy) -> set[m.QName]:
    with_policy = {p.table for _, p in project.policies if p.name == tenancy.policy}
    return {
        t.qname for _, t in project.tables if t.qname in with_policy or t.column(tenancy.column)
    }


def query_tree(query: str) -> ast.Node | None:
    try:
        statements = pglast.parse_sql(query)
    except pglast.parser.ParseError:
        return None
    return statements[0].stmt if len(statements) == 1 else None


def relations_read(tree: ast.Node | None) -> set[m.QName]:
    return {
        m.QName(node.schemaname, str(node.relname))
        for node in _nodes(tree)
        if isinstance(node, ast.RangeVar) and node.schemaname
    }


def filters_tenant(tree: ast.Node | None, setting: str) -> bool:
    return isinstance(tree, ast.SelectStmt) and implies_tenant(tree.whereClause, setting)
