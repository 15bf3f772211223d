"""Scripts as PostgreSQL reads them: split into statements, CREATE INDEX read and rewritten.

The CONCURRENTLY rewrite is made on the parse tree and printed back with pglast's RawStream,
so nothing but the one flag changes. What a statement does is `classify.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pglast import ast, enums, parse_sql, parser
from pglast.stream import RawStream

from schemac.sql.parse import SqlError, SqlSyntaxError


@dataclass(frozen=True)
class Statement:
    text: str  # without the terminating semicolon
    offset: int  # character offset of the statement in the script


def split(script: str) -> tuple[Statement, ...]:
    """Each statement of `script`, exactly as PostgreSQL splits it (dollar quotes, BEGIN ATOMIC)."""
    try:
        raw = parse_sql(script)
    except parser.ParseError as exc:
        location = exc.args[1] if len(exc.args) > 1 else None
        raise SqlSyntaxError(
            SqlError(str(exc.args[0]), len(script) if location is None else location)
        ) from None
    out = []
    for statement in raw:
        start = statement.stmt_location or 0
        end = start + (statement.stmt_len or 0) if statement.stmt_len else len(script)
        text = script[start:end].strip()
        if text:
            out.append(
                Statement(text, start + (len(script[start:end]) - len(script[start:end].lstrip())))
            )
    return tuple(out)


@dataclass(frozen=True)
class IndexInfo:
    schema: str | None  # of the table (an index lives in its table's schema)
    name: str | None
    table: str
    unique: bool
    concurrent: bool
    only: bool  # ON ONLY the parent of a partitioned table


def index_info(text: str) -> IndexInfo | None:
    """Name and table of a CREATE INDEX statement; None for any other statement."""
    node: Any = _single(text)
    if type(node).__name__ != "IndexStmt":
        return None
    return IndexInfo(
        node.relation.schemaname,
        node.idxname,
        node.relation.relname,
        bool(node.unique),
        bool(node.concurrent),
        not node.relation.inh,
    )


def concurrently(text: str) -> str:
    """CREATE INDEX (or DROP INDEX) as its CONCURRENTLY form, printed from the tree."""
    node: Any = _single(text)
    if isinstance(node, ast.IndexStmt) or (
        isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_INDEX
    ):
        node.concurrent = True
    else:
        raise ValueError(f"not a CREATE INDEX or DROP INDEX statement: {text[:60]}")
    return str(RawStream()(node))


def _single(text: str) -> Any:
    try:
        raw = parse_sql(text)
    except parser.ParseError as exc:
        raise SqlSyntaxError(SqlError(str(exc.args[0]), exc.args[1] or 0)) from None
    if len(raw) != 1:
        raise SqlSyntaxError(SqlError(f"{len(raw)} statements where one was expected", 0))
    return raw[0].stmt


def rename_index(text: str, name: str) -> str:
    """A CREATE INDEX statement with its index named `name`, printed from the tree."""
    node: Any = _single(text)
    if not isinstance(node, ast.IndexStmt):
        raise ValueError(f"not a CREATE INDEX statement: {text[:60]}")
    node.idxname = name
    return str(RawStream()(node))


def public_grantees(text: str) -> str:
    """A GRANT or REVOKE whose grantee role named "PUBLIC" (quoted, as some tools print it)
    is the PUBLIC keyword instead; any other statement comes back unchanged."""
    node: Any = _single(text)
    if not isinstance(node, ast.GrantStmt):
        return text
    grantees = []
    changed = False
    for grantee in node.grantees or ():
        if grantee.roletype == enums.RoleSpecType.ROLESPEC_CSTRING and grantee.rolename == "PUBLIC":
            grantee = ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_PUBLIC)
            changed = True
        grantees.append(grantee)
    if not changed:
        return text
    node.grantees = tuple(grantees)
    return str(RawStream()(node))


def setting(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``SET name = value[, ...]`` as the setting's name and its values as written (an
    identifier or literal each); None for any other statement, ``SET ... TO DEFAULT`` included."""
    node: Any = _single(text)
    if (
        not isinstance(node, ast.VariableSetStmt)
        or node.kind != enums.VariableSetKind.VAR_SET_VALUE
    ):
        return None
    values = []
    for arg in node.args or ():
        value = arg.val if isinstance(arg, ast.A_Const) else None
        if isinstance(value, ast.String):
            values.append(str(value.sval))
        elif isinstance(value, ast.Integer):
            values.append(str(value.ival))
        elif isinstance(value, ast.Float):
            values.append(str(value.fval))
        else:
            return None
    return str(node.name), tuple(values)


def without_only(text: str) -> str:
    """A CREATE INDEX ``ON ONLY`` a table as the same text without ONLY (so it cascades to the
    partitions); any other statement, or one without ONLY, comes back unchanged.

    The ONLY keyword is found by PostgreSQL's lexer and cut out with the blank after it, so the
    rest of the text stays as written."""
    info = index_info(text)
    if info is None or not info.only:
        return text
    # ONLY is a reserved keyword: the first such token is the one after ON (a name spelled
    # "only" is a quoted identifier, another token kind).
    token = next(t for t in parser.scan(text) if t.name == "ONLY")
    rest = text[token.end + 1 :]
    return text[: token.start] + rest.lstrip()


def unnamed_index(text: str) -> str:
    """A CREATE INDEX definition with its name left out, printed from the tree: two indexes
    that differ only by name read the same."""
    return rename_index(text, "?")


def concurrently_as_written(text: str) -> str:
    """CREATE INDEX (or DROP INDEX) with CONCURRENTLY put after INDEX, the rest of the text as
    written (where `concurrently` prints the statement again from the tree); a statement that
    already says CONCURRENTLY comes back unchanged."""
    node: Any = _single(text)
    if not (
        isinstance(node, ast.IndexStmt)
        or (isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_INDEX)
    ):
        raise ValueError(f"not a CREATE INDEX or DROP INDEX statement: {text[:60]}")
    if node.concurrent:
        return text
    # The first INDEX keyword token is the statement's (CREATE [UNIQUE] INDEX, DROP INDEX).
    token = next(t for t in parser.scan(text) if t.name == "INDEX")
    return text[: token.end + 1] + " CONCURRENTLY" + text[token.end + 1 :]
