"""Indexes, declared under a table or a materialized view (`indexes:`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.diagnostics import SourceLocation
from schemac.kinds.common import expression
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import default_constraint_name
from schemac.node_keys import node_key
from schemac.sql.parse import parse_index_column
from schemac.sql.typed import plain_name_error, storage_value_sql
from schemac.sqlfields import enumerated, items, short

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import LocatedDict
    from schemac.sqlfields import FieldChecker


def _elements(
    b: Builder, ix: LocatedDict, loc: SourceLocation
) -> tuple[list[m.IndexElement], list[str]]:
    elements: list[m.IndexElement] = []
    name_parts: list[str] = []
    for element in ix["columns"]:
        if isinstance(element, str):
            column = parse_index_column(element)
            if column is None:
                b.error(
                    "E309",
                    f"'{element}' is not 'column [asc|desc] [nulls first|last]'",
                    loc,
                    hint='write an expression as {expression: "..."}',
                )
                continue
            elements.append(
                m.IndexElement(column.column, None, column.order, column.nulls, None, None)
            )
            name_parts.append(column.column)
        else:
            elements.append(
                m.IndexElement(
                    element.get("column"),
                    element.get("expression"),
                    element.get("order"),
                    element.get("nulls"),
                    element.get("opclass"),
                    element.get("collation"),
                )
            )
            name_parts.append(element.get("column") or "expr")
    return elements, name_parts


def index_fields(checker: FieldChecker, what: str, index: LocatedDict) -> None:
    """An index's SQL fields and `with:` storage parameters (a table's or a view's)."""
    checker.sql(index, "where", f"the where of {what}")
    for j, element in enumerated(index.get("columns")):
        checker.sql(element, "expression", f"element {j + 1} of {what}")
    storage: Any = index.get("with")
    for key, value in items(storage, dicts_only=False):
        if plain_name_error(key) is not None:
            checker.report(
                "E318",
                f"'{short(key)}' in the with: of {what} is not a storage parameter name",
                (storage, ("key", key)),
                0,
                "a storage parameter is a lower-case name: fillfactor, fastupdate, ...",
            )
        elif storage_value_sql(value) is None:
            checker.report(
                "E318",
                f"the value of {key} in the with: of {what} is not a number, boolean or word",
                (storage, key),
                0,
                "write a number (70), a boolean (false) or a single word (auto)",
            )


def build_index(b: Builder, u: int, table: m.QName, ix: LocatedDict, loc: SourceLocation) -> None:
    elements, name_parts = _elements(b, ix, loc)
    # Names and values were checked at their positions (index_fields, E318).
    storage = tuple((k, storage_value_sql(v) or str(v)) for k, v in (ix.get("with") or {}).items())
    b.add(
        "indexes",
        u,
        m.Index(
            ix.get("name") or default_constraint_name(table.name, name_parts, "idx"),
            table,
            tuple(elements),
            bool(ix.get("unique", False)),
            bool(ix.get("nulls_not_distinct", False)),
            ix.get("method"),
            expression(ix.get("where")),
            tuple(ix.get("include", ())),
            storage,
            bool(ix.get("concurrently", False)),
            ix.get("comment"),
            loc,
            ix.value_locations.get("method", loc) if "method" in ix else None,
        ),
    )


# The access methods PostgreSQL has without an extension.
BUILT_IN_METHODS = frozenset({"btree", "hash", "gist", "spgist", "gin", "brin"})
# Extensions known to provide an index method (another one may: any declared extension is
# then accepted, and the shadow's replay proves it).
METHOD_EXTENSIONS = {"bloom": "bloom", "hnsw": "vector", "ivfflat": "vector", "rum": "rum"}


def _method_extensions(a: Analyser, ix: m.Index) -> set[str]:
    """The declared extensions the index's method may come from."""
    if ix.method is None or ix.method in BUILT_IN_METHODS:
        return set()
    known = METHOD_EXTENSIONS.get(ix.method)
    if known is not None:
        return {known} & a.extensions
    return {e for e in a.extensions if e not in METHOD_EXTENSIONS.values()}


def edges(a: Analyser, ix: m.Index) -> set[str]:
    deps = a.sql_dependencies(ix.where, *(e.expression for e in ix.elements))
    deps |= {node_key("extension", e) for e in _method_extensions(a, ix)}
    target = a.relation_keys.get(ix.table)
    if target:
        deps.add(target)
    return deps


def names(a: Analyser, ix: m.Index, claims: NameClaims) -> None:
    claims.claim("relations", m.QName(ix.table.schema, ix.name), f"index on {ix.table}", ix.loc)
    claims.name(ix.name, ix.loc)


def check(a: Analyser) -> None:
    for _, ix in a.p.indexes:
        if ix.table not in a.tables and ix.table in a.views and not a.views[ix.table].materialized:
            a.error(
                "E350",
                f"index '{ix.name}' is on a view; only tables and materialized views have indexes",
                ix.loc,
            )
            continue
        _check_method(a, ix)
        a.check_columns(
            ix.table, [e.column for e in ix.elements if e.column], ix.loc, f"index '{ix.name}'"
        )
        a.check_columns(ix.table, ix.include, ix.loc, f"index '{ix.name}' include")
        if ix.concurrently and _partitioned(a, ix.table):
            a.error(
                "E351",
                f"index '{ix.name}': PostgreSQL cannot build an index on a partitioned table concurrently",
                ix.loc,
                hint="drop concurrently: (or index each partition)",
            )


def _partitioned(a: Analyser, relation: m.QName) -> bool:
    """Whether the table, or the partition, is partitioned (again)."""
    table = a.tables.get(relation)
    if table is not None:
        return bool(table.partition_by)
    return any(p.qname == relation and p.partition_by for _, p in a.p.partitions)


def _check_method(a: Analyser, ix: m.Index) -> None:
    """A method PostgreSQL does not have built in needs the extension that provides it."""
    if ix.method is None or ix.method in BUILT_IN_METHODS or _method_extensions(a, ix):
        return
    known = METHOD_EXTENSIONS.get(ix.method)
    a.error(
        "E355",
        f"index '{ix.name}' uses method '{ix.method}', which is not built into PostgreSQL "
        f"({', '.join(sorted(BUILT_IN_METHODS))})",
        ix.method_loc or ix.loc,
        hint=f"declare the extension that provides it under extensions: ({known}: {{}})"
        if known
        else "declare the extension that provides it under extensions:",
    )


def _nodes(ix: Any) -> tuple[tuple[str, str], ...]:
    return (("index", node_key("index", ix.qname)),)


INDEX = Kind(
    "index",
    field="indexes",
    table_member=True,
    nodes=_nodes,
    located=Located("index", ("index",)),
    edges=edges,
    check=check,
    names=names,
    template="index",
    concurrent=lambda ix: bool(ix.concurrently),
    # Read with the tables (relations.py).
    comparison=Comparison(
        ("index",),
        frozenset({"loc", "concurrently"}),
        {"elements": "element"},
        frozenset({"element"}),
    ),
)
