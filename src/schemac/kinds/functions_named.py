"""Functions named by another object's field (a range's `subtype_diff`, an aggregate's `sfunc`).

Written in SQL's syntax (`schema.name`, `"app.v2"."add.it"`), or short: a short name is the function of the object's own schema when
the project declares one there (qualified once every unit is built, `qualify_functions`),
else a built-in of pg_catalog (`int4pl`, `float8mi`), rendered as written. A qualified name in
a schema the project declares must be one of its functions, or an external one (E372).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.diagnostics import SourceLocation, did_you_mean
from schemac.naming import sql_name
from schemac.sql.names import NameChainError, parse_name_chain

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import Document, LocatedDict

# The function of an oid column as these fields write it: bare for pg_catalog, else qualified.
# Each part as quote_ident() writes it: SQL's syntax, as the YAML writes references.
PROC_NAME = (
    "(SELECT CASE WHEN fn.nspname = 'pg_catalog' THEN pg_catalog.quote_ident(fp.proname) "
    "ELSE pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(fp.proname) END "
    "FROM pg_catalog.pg_proc fp JOIN pg_catalog.pg_namespace fn ON fn.oid = fp.pronamespace "
    "WHERE fp.oid = {oid})"
)


def _parts(name: str) -> tuple[str, ...] | None:
    """The name chain as SQL's syntax reads it (a part may contain dots: `"app.v2"."f.g"`)."""
    try:
        return parse_name_chain(name).parts
    except NameChainError:
        return None


def _written(parts: tuple[str, ...]) -> str:
    """As the catalog reader writes it (`PROC_NAME`), so the two compare equal."""
    return ".".join(sql_name(p) for p in parts)


def local_function(doc: Document, schema: str, name: str | None) -> str | None:
    """The name in SQL's syntax; a short one declared by this very document, qualified now."""
    parts = _parts(name) if name is not None else None
    if name is None or parts is None:
        return name  # not a name: the reference check reports it
    if len(parts) == 1 and parts[0] in (doc.data.get("functions") or {}):
        return _written((schema, parts[0]))
    return _written(parts)


def qualify_functions(b: Builder, section: str, fields: tuple[str, ...]) -> None:
    """A `finish` step: short names of functions the object's schema declares in another
    document, qualified (every routine is built by now)."""
    declared = {f.qname for _, f in b.out.get("functions", ())}
    built = b.out.get(section, [])
    for i, (unit, obj) in enumerate(built):
        changes: dict[str, Any] = {}
        for name in fields:
            parts = _parts(getattr(obj, name) or "")
            if parts and len(parts) == 1 and m.QName(obj.qname.schema, parts[0]) in declared:
                changes[name] = _written((obj.qname.schema, parts[0]))
        if changes:
            built[i] = (unit, dataclasses.replace(obj, **changes))


def value_locations(
    declared: LocatedDict, fields: tuple[str, ...]
) -> tuple[tuple[str, SourceLocation], ...]:
    """Where each of these fields' values is written (errors about a field point at it)."""
    return tuple((name, declared.value_locations[name]) for name in fields if name in declared)


def written_short(name: str | None, schema: str) -> str | None:
    """A function of the object's own schema as a person writes it (`schemac import`)."""
    return None if name is None else name.removeprefix(f"{sql_name(schema)}.")


def _qname(name: str) -> m.QName | None:
    parts = _parts(name)
    return m.QName(parts[0], parts[1]) if parts is not None and len(parts) == 2 else None


def function_edge(a: Analyser, name: str | None) -> set[str]:
    qname = _qname(name) if name else None
    key = a.function_keys.get(qname) if qname is not None else None
    return {key} if key else set()


def check_function_reference(
    a: Analyser, name: str | None, what: str, loc: SourceLocation | None
) -> None:
    qname = _qname(name) if name else None
    if qname is None or qname.schema not in a.schemas or qname in a.functions:
        return
    a.error(
        "E372",
        f"{what} names unknown function {qname}",
        loc,
        hint=did_you_mean(str(qname), [str(q) for q in a.functions if q.schema == qname.schema])
        or "declare the function in functions:, or write a built-in's bare name",
    )
