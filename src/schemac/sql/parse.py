"""Parse the SQL texts a schema passes through, and type names, with PostgreSQL's parser.

An expression is parsed inside `SELECT <expr>` and a type name inside `SELECT NULL::<type>`;
the tree must then be exactly that shape, so a text that closes the construct and starts
another statement (`int); DROP TABLE t; --`) is rejected. Error offsets are 0-based
character offsets into the text the caller gave, not into the wrapper.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from pglast import parser

_EXPRESSION_PREFIX = "SELECT "
_TYPE_PREFIX = "SELECT NULL::"


@dataclass(frozen=True)
class SqlError:
    """Why a text is not what its field must hold, and where (offset into the text)."""

    message: str
    offset: int


class SqlSyntaxError(Exception):
    def __init__(self, error: SqlError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class TypeName:
    """One PostgreSQL type name as written: `varchar(20)[]`, `app.mood`, `double precision`."""

    schema: str | None  # as the user wrote it; None when unqualified
    name: str  # the name the user wrote (for built-in keyword types: PostgreSQL's, e.g. float8)
    modifiers: tuple[str, ...]  # each type modifier as SQL: ('10', '2')
    array_bounds: tuple[int, ...]  # -1 for `[]`
    setof: bool
    catalog_name: tuple[str, ...]  # the parser's qualified name, e.g. ('pg_catalog', 'float8')
    suffix: str  # modifiers and array bounds as the parser printed them: '(10, 2)[]'
    rest: str  # of a one- or two-part name: what follows the name, as written ('(3)[]')

    def quoted(self, schema: str | None = None) -> str:
        """Schema and name quoted, then the rest as written: `"app"."mood"[]`."""
        qualifier = self.schema or schema
        head = (
            _quote(self.name) if qualifier is None else f"{_quote(qualifier)}.{_quote(self.name)}"
        )
        return head + self.rest


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _syntax(text: str, prefix_length: int, exc: parser.ParseError) -> SqlError:
    message, location = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
    offset = len(text) if location is None else max(location - prefix_length, 0)
    return SqlError(str(message), min(offset, len(text)))


def _comment_offset(text: str) -> int | None:
    """Where a comment starts, if the text has one (a line comment would swallow what follows)."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            return int(token.start)
    return None


def _single_select(text: str, prefix: str) -> dict[str, Any]:
    """The one plain SELECT of one expression that `prefix + text` must be: its JSON tree."""
    wrapped = prefix + text + "\n"
    try:
        tree = json.loads(parser.parse_sql_json(wrapped))
    except parser.ParseError as exc:
        raise SqlSyntaxError(_syntax(text, len(prefix), exc)) from None
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        second = statements[1].get("stmt_location", 0) if len(statements) > 1 else 0
        offset = _char_offset(wrapped, second) - len(prefix)
        raise SqlSyntaxError(SqlError("more than one statement", max(offset, 0)))
    select: dict[str, Any] | None = statements[0]["stmt"].get("SelectStmt")
    if select is None or select.get("op") != "SETOP_NONE":
        raise SqlSyntaxError(SqlError("not a single expression", 0))
    extra = sorted(set(select) - {"targetList", "limitOption", "op"})
    if extra:
        raise SqlSyntaxError(SqlError(f"only an expression may stand here ({extra[0]})", 0))
    targets = select.get("targetList", [])
    if len(targets) != 1:
        at = targets[1]["ResTarget"].get("location", 0) if len(targets) > 1 else 0
        offset = _char_offset(wrapped, at) - len(prefix)
        raise SqlSyntaxError(SqlError("more than one expression", max(offset, 0)))
    target = targets[0]["ResTarget"]
    if "name" in target or "indirection" in target:
        raise SqlSyntaxError(SqlError("an expression may not carry an alias", 0))
    return select


def _char_offset(text: str, byte_offset: int) -> int:
    """The parser's JSON counts bytes of UTF-8; positions here count characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


@functools.lru_cache(maxsize=8192)
def expression_error(text: str) -> SqlError | None:
    """None when `text` is exactly one SQL expression; else what is wrong and where.

    Checked on the parser's JSON tree: building Python nodes would cost many times more, and
    most expressions of a schema are checked for nothing else."""
    try:
        _single_select(text, _EXPRESSION_PREFIX)
    except SqlSyntaxError as exc:
        return exc.error
    return None


@functools.lru_cache(maxsize=2048)
def query_error(text: str) -> SqlError | None:
    """None when `text` is exactly one query (SELECT, VALUES, WITH ... SELECT, TABLE)."""
    try:
        statements = json.loads(parser.parse_sql_json(text)).get("stmts", [])
    except parser.ParseError as exc:
        return _syntax(text, 0, exc)
    if not statements:
        return SqlError("the query is empty", 0)
    if len(statements) > 1:
        second = _char_offset(text, statements[1].get("stmt_location", 0))
        return SqlError("a view is one query, not several statements", second)
    if "SelectStmt" not in statements[0]["stmt"]:
        return SqlError("a view's query must be a SELECT (or VALUES, or WITH ... SELECT)", 0)
    return None


@functools.lru_cache(maxsize=2048)
def statements_error(text: str) -> SqlError | None:
    """None when `text` parses as SQL statements (a SQL-language routine body)."""
    try:
        parser.parse_sql_json(text)
    except parser.ParseError as exc:
        return _syntax(text, 0, exc)
    return None


@functools.lru_cache(maxsize=4096)
def parse_type_name(text: str, *, allow_setof: bool = False) -> TypeName:
    """Exactly one type name, else SqlSyntaxError (offset into `text`)."""
    select = _single_select(text, _TYPE_PREFIX)
    cast = select["targetList"][0]["ResTarget"]["val"].get("TypeCast")
    if cast is None or cast["arg"].get("A_Const", {}).get("isnull") is not True:
        raise SqlSyntaxError(SqlError("not a type name", 0))
    comment = _comment_offset(text)
    if comment is not None:
        raise SqlSyntaxError(SqlError("a type name cannot hold a comment", comment))
    type_name = cast["typeName"]
    if type_name.get("setof") and not allow_setof:
        raise SqlSyntaxError(SqlError("setof is for a function's returns: only", 0))
    if type_name.get("pct_type"):
        raise SqlSyntaxError(SqlError("%TYPE references are not supported here", 0))
    return _dissect(text, type_name)


def _dissect(text: str, type_name: dict[str, Any]) -> TypeName:
    catalog_name = tuple(str(n["String"]["sval"]) for n in type_name["names"])
    tokens = [t for t in parser.scan(text) if t.name != "SETOF"]
    written_qualified = len(tokens) >= 3 and tokens[1].name == "ASCII_46"
    schema = catalog_name[0] if written_qualified and len(catalog_name) == 2 else None
    modifiers = tuple(_modifier(m) for m in type_name.get("typmods", ()))
    bounds = tuple(int(b["Integer"].get("ival", 0)) for b in type_name.get("arrayBounds", ()))
    suffix = (f"({', '.join(modifiers)})" if modifiers else "") + "".join(
        "[]" if b < 0 else f"[{b}]" for b in bounds
    )
    rest = suffix
    if written_qualified or len(catalog_name) == 1:
        # Modifiers of a user-defined type may be words (`geometry(Point, 4326)`): keep them.
        rest = text[int(tokens[2 if written_qualified else 0].end) + 1 :].rstrip()
    return TypeName(
        schema,
        catalog_name[-1],
        modifiers,
        bounds,
        bool(type_name.get("setof")),
        catalog_name,
        suffix,
        rest,
    )


def _modifier(node: dict[str, Any]) -> str:
    """A type modifier as SQL: 10, 1.5, 'x', or a word (geometry(Point, ...))."""
    constant = node.get("A_Const")
    if constant is not None:
        if "ival" in constant:
            return str(constant["ival"].get("ival", 0))
        if "fval" in constant:
            return str(constant["fval"]["fval"])
        if "sval" in constant:
            return "'" + str(constant["sval"].get("sval", "")).replace("'", "''") + "'"
    column = node.get("ColumnRef")
    if column is not None:
        return ".".join(str(f["String"]["sval"]) for f in column["fields"] if "String" in f)
    return "?"


def type_name_error(text: str, *, allow_setof: bool = False) -> SqlError | None:
    try:
        parse_type_name(text, allow_setof=allow_setof)
    except SqlSyntaxError as exc:
        return exc.error
    return None


def setof_rest(text: str) -> str | None:
    """The type after a leading SETOF, or None when the text does not start with SETOF."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    if len(tokens) > 1 and tokens[0].name == "SETOF":
        return text[tokens[1].start :].strip()
    return None


@dataclass(frozen=True)
class IndexColumn:
    """`created_at desc nulls last`: a column of an index with its order."""

    column: str
    order: str | None  # asc | desc
    nulls: str | None  # first | last


_ORDER = {"SORTBY_ASC": "asc", "SORTBY_DESC": "desc"}
_NULLS = {"SORTBY_NULLS_FIRST": "first", "SORTBY_NULLS_LAST": "last"}


@functools.lru_cache(maxsize=2048)
def parse_index_column(text: str) -> IndexColumn | None:
    """A column name with optional ASC/DESC and NULLS FIRST/LAST, else None (an expression,
    an operator class or anything more belongs in the long form)."""
    if _comment_offset(text) is not None:
        return None
    try:
        tree = json.loads(parser.parse_sql_json(f"CREATE INDEX i ON t ({text}\n)"))
    except parser.ParseError:
        return None
    statements = tree.get("stmts", [])
    if len(statements) != 1 or "IndexStmt" not in statements[0]["stmt"]:
        return None
    index = statements[0]["stmt"]["IndexStmt"]
    params = index.get("indexParams", [])
    if len(params) != 1 or set(index) - {"idxname", "relation", "accessMethod", "indexParams"}:
        return None
    element = params[0]["IndexElem"]
    if set(element) - {"name", "ordering", "nulls_ordering"} or "name" not in element:
        return None
    return IndexColumn(
        element["name"],
        _ORDER.get(element.get("ordering", "")),
        _NULLS.get(element.get("nulls_ordering", "")),
    )


@functools.lru_cache(maxsize=1024)
def partition_columns(partition_by: str) -> tuple[str, ...]:
    """The plain columns of a partition key (`RANGE ("at", (lower(x)))` -> ('at',))."""
    try:
        tree = json.loads(parser.parse_sql_json(f"CREATE TABLE t () PARTITION BY {partition_by}"))
    except parser.ParseError:
        return ()
    statements = tree.get("stmts", [])
    if len(statements) != 1 or "CreateStmt" not in statements[0]["stmt"]:
        return ()
    spec = statements[0]["stmt"]["CreateStmt"].get("partspec", {})
    return tuple(
        element["PartitionElem"]["name"]
        for element in spec.get("partParams", [])
        if "name" in element["PartitionElem"]
    )
