"""Functions and procedures (one kind: a procedure is a routine without a result)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.routines import read_routines
from schemac.diagnostics import SourceLocation
from schemac.kinds.common import dollar_tag, imported_by, one_node, sql_value
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.limits import FileRefused, read_body_file
from schemac.loader import LocatedDict
from schemac.naming import quote_ident
from schemac.privileges import revokes_public_default
from schemac.sql.parse import setof_rest, statements_error
from schemac.sql.typed import setting_name_error
from schemac.sqlfields import check_body_file, enumerated, items, short
from schemac.validate import locate

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document
    from schemac.sqlfields import FieldChecker

ROUTINE_SECTIONS = (("functions", False), ("procedures", True))


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    for key, is_procedure in ROUTINE_SECTIONS:
        for name, fn in (doc.data.get(key) or {}).items():
            _build_routine(b, u, schema, name, fn, is_procedure, doc, key)


def _body(
    b: Builder, f: LocatedDict, is_procedure: bool, doc: Document, key: str, name: str
) -> str:
    body = f.get("body")
    if body is not None:
        return str(body)
    body_path = doc.path.parent / f["body_file"]
    try:  # a regular file inside the project, of bounded size (limits.py)
        body = read_body_file(doc.path, f["body_file"], b.settings.root)
    except FileRefused as exc:
        b.error(exc.code, exc.message, locate(doc, [key, name, "body_file"]), exc.hint)
        body = ""
    if f.get("language", "plpgsql" if is_procedure else "sql") == "sql":
        problem = check_body_file(body, body_path, f"the body of {key[:-1]} '{name}'")
        if problem is not None:
            b.diagnostics.append(problem)
    return body


def stored_body(body: str, leading_newline: bool) -> str:
    """The routine's source as PostgreSQL stores it (prosrc), byte for byte: the YAML's body
    as written, after the line break that follows `AS $body$` unless `body_leading_newline:
    false` (a body that starts on the same line)."""
    return "\n" + body if leading_newline else body


def _returns(
    b: Builder, returns: object, schema: str
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    if isinstance(returns, dict):
        columns = tuple((c, b.render_type(t, schema)) for c, t in returns["table"].items())
        rendered = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns)
        return f"TABLE ({rendered})", columns
    if isinstance(returns, str):
        text = returns.strip()
        element = setof_rest(text)
        if element is not None:
            return "SETOF " + b.render_type(element, schema), ()
        return b.render_type(text, schema), ()
    return None, ()


def _build_routine(
    b: Builder,
    u: int,
    schema: str,
    name: str,
    f: LocatedDict,
    is_procedure: bool,
    doc: Document,
    key: str,
) -> None:
    loc = doc.data[key].key_locations[name]
    body = _body(b, f, is_procedure, doc, key, name)
    rendered_returns, returns_columns = _returns(b, f.get("returns"), schema)
    arguments = tuple(
        m.Argument(
            a.get("name"),
            b.render_type(a["type"], schema),
            a.get("mode"),
            sql_value(a.get("default")),
        )
        for a in f.get("arguments", ())
    )
    grants = b.grants(doc.data.get("function_grants"), f.get("grants"))
    definer = f.get("security") == "definer"
    b.add(
        "functions",
        u,
        m.Function(
            m.QName(schema, name),
            is_procedure,
            f.get("language", "plpgsql" if is_procedure else "sql"),
            arguments,
            rendered_returns,
            f.get("volatility"),
            bool(f.get("strict", False)),
            bool(f.get("leakproof", False)),
            definer,
            f.get("parallel"),
            f.get("cost"),
            f.get("rows"),
            tuple((k, str(v)) for k, v in (f.get("set") or {}).items()),
            stored_body(body, f.get("body_leading_newline", True)),
            tuple(
                b.qualify(d, schema, (f["depends_on"], i))
                for i, d in enumerate(f.get("depends_on", ()))
            ),
            grants,
            f.get("comment"),
            loc,
            returns_columns,
            revokes_public_default(
                grants, "execute", definer=definer, settings=b.settings.privileges
            ),
        ),
    )


def fields(checker: FieldChecker, data: LocatedDict) -> None:
    for key, is_procedure in ROUTINE_SECTIONS:
        for name, routine in items(data.get(key)):
            routine_fields(checker, name, routine, is_procedure)


def routine_fields(
    checker: FieldChecker, name: str, routine: LocatedDict, is_procedure: bool
) -> None:
    """Argument and return types, defaults, `set:` names and a SQL body (also external's)."""
    kind = "procedure" if is_procedure else "function"
    for i, argument in enumerated(routine.get("arguments")):
        what = f"argument {i + 1} of {kind} '{name}'"
        checker.type(argument, "type", f"the type of {what}")
        checker.sql(argument, "default", f"the default of {what}")
    returns = routine.get("returns")
    if isinstance(returns, str):
        checker.type(routine, "returns", f"the return type of {kind} '{name}'", returns=True)
    elif isinstance(returns, LocatedDict):
        for column, _ in items(returns.get("table"), dicts_only=False):
            checker.type(
                returns["table"], column, f"the type of column '{column}' returned by '{name}'"
            )
    settings: Any = routine.get("set")
    for key, _ in items(settings, dicts_only=False):
        error = setting_name_error(key)
        if error is not None:
            checker.report(
                "E317",
                f"'{short(key)}' in the set: of {kind} '{name}' is not a setting name: {error.message}",
                (settings, ("key", key)),
                0,
                "a configuration parameter name: search_path, work_mem, or extension.name",
            )
    language = routine.get("language", "plpgsql" if is_procedure else "sql")
    if language == "sql":
        checker.sql(routine, "body", f"the body of {kind} '{name}'", statements_error)


def edges(a: Analyser, fn: m.Function) -> set[str]:
    deps: set[str] = set()
    for arg in fn.arguments:
        deps |= a.type_dependency(arg.type) | a.sql_dependencies(arg.default)
    if fn.returns and not fn.returns.startswith("TABLE"):
        deps |= a.type_dependency(fn.returns.removeprefix("SETOF "))
    for _, column_type in fn.returns_columns:
        deps |= a.type_dependency(column_type)
    # SQL bodies are checked when created; PL/pgSQL bodies only when run.
    if fn.language == "sql":
        deps |= a.statement_dependencies(fn.body)
    deps |= {key for d in fn.depends_on if (key := a.any_key(d))}
    return deps | a.grant_dependencies(fn.grants)


def names(a: Analyser, fn: m.Function, claims: NameClaims) -> None:
    claims.claim("functions", fn.qname, "routine", fn.loc)


def types(fn: m.Function) -> Iterator[tuple[str, SourceLocation | None, str]]:
    schema = fn.qname.schema
    for arg in fn.arguments:
        yield arg.type, fn.loc, schema
    if fn.returns and not fn.returns.startswith("TABLE"):
        yield fn.returns.removeprefix("SETOF "), fn.loc, schema
    for _, column_type in fn.returns_columns:
        yield column_type, fn.loc, schema


def check(a: Analyser) -> None:
    for _, fn in a.p.functions:
        for dep in fn.depends_on:
            if a.any_key(dep) is None:
                a.error("E370", f"routine {fn.qname} depends on unknown object {dep}", fn.loc)
        if not fn.is_procedure and fn.returns is None:
            a.error("E371", f"function {fn.qname} needs returns:", fn.loc)


def returns_trigger(function: m.Function) -> bool:
    return (function.returns or "").lower() == "trigger"


FUNCTION = Kind(
    "function",
    field="functions",
    sections=(*(key for key, _ in ROUTINE_SECTIONS), "function_grants"),
    build=build,
    fields=fields,
    nodes=one_node("function", "function"),
    located=Located("function", ("function", "procedure", "routine")),
    namespaces=("function",),
    edges=edges,
    check=check,
    names=names,
    types=types,
    template="function",
    dollar=lambda fn: dollar_tag(fn.body),
    privileges=("routine", frozenset({"all", "execute"})),
    reader=lambda conn, out, reading: read_routines(conn, out),
    comparison=Comparison(
        ("function", "procedure"),
        frozenset({"loc", "depends_on", "grants", "revoke_public"}),
        {"arguments": "argument"},
        frozenset({"argument"}),
    ),
    import_unit=imported_by("schemac.importer.routines", "routines_sections"),
    grants_section="function_grants",
)
