"""Aggregates (`aggregates:`): `CREATE AGGREGATE s.a(argument types) (SFUNC = ..., STYPE = ...)`.

The whole kind in one module, as composite types are. Plain aggregates only: what the YAML
cannot hold (moving-aggregate, serial and final-extra functions, a sort operator, ordered-set
or hypothetical aggregates) is read into `unsupported`, so such an aggregate made by hand is a
difference named by attribute and an import loss, never dropped in silence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION
from schemac.catalog.queries import (
    USER_NAMESPACE,
    acl,
    acl_entries,
    comment,
    grants_of,
    not_extension_member,
    rows,
)
from schemac.diagnostics import SourceLocation
from schemac.kinds.common import sql_value
from schemac.kinds.functions_named import (
    PROC_NAME,
    check_function_reference,
    function_edge,
    local_function,
    qualify_functions,
    value_locations,
    written_short,
)
from schemac.kinds.migrating import drop_and_create, read_kind
from schemac.kinds.registry import Comparison, Kind, Located, Reading
from schemac.node_keys import node_key
from schemac.sqlfields import FieldChecker

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.importer.context import Context
    from schemac.loader import Document, LocatedDict

SECTION = "aggregates"
FUNCTION_FIELDS = ("sfunc", "finalfunc", "combinefunc")


@dataclass(frozen=True)
class Aggregate:
    qname: m.QName
    args: tuple[str, ...]  # rendered argument types
    sfunc: str
    stype: str
    finalfunc: str | None
    initcond: str | None
    combinefunc: str | None
    parallel: str | None  # safe, restricted; None: unsafe (PostgreSQL's default)
    grants: tuple[m.Grant, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    unsupported: tuple[str, ...] = ()  # attributes set in the database the YAML cannot hold
    # where each function field is written, for errors about it
    field_locs: tuple[tuple[str, SourceLocation], ...] = field(
        default=(), compare=False, repr=False
    )

    @property
    def signature(self) -> str:
        return f"{self.qname.sql}({', '.join(self.args) or '*'})"


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    section: LocatedDict | None = doc.data.get(SECTION)
    for name, declared in (section or {}).items():
        checker = FieldChecker()
        what = f"aggregate '{name}'"
        checker.type(declared, "stype", f"the state type of {what}")
        for i, _ in enumerate(declared.get("args") or ()):
            checker.type(declared["args"], i, f"argument {i + 1} of {what}")
        b.diagnostics.extend(checker.diagnostics)
        parallel = declared.get("parallel")
        b.add(
            SECTION,
            u,
            Aggregate(
                m.QName(schema, name),
                tuple(b.render_type(t, schema) for t in declared.get("args") or ()),
                local_function(doc, schema, declared["sfunc"]) or "",
                b.render_type(declared["stype"], schema),
                local_function(doc, schema, declared.get("finalfunc")),
                sql_value(declared.get("initcond")),
                local_function(doc, schema, declared.get("combinefunc")),
                None if parallel in (None, "unsafe") else parallel,
                # Not the schema's function_grants: import moves what every function of a
                # schema grants there, which an aggregate of it need not grant.
                b.grants(declared.get("grants")),
                declared.get("comment"),
                section.key_locations[name],  # type: ignore[union-attr]
                field_locs=value_locations(declared, FUNCTION_FIELDS),
            ),
        )


def edges(a: Analyser, agg: Aggregate) -> set[str]:
    deps = set(a.type_dependency(agg.stype))
    for arg in agg.args:
        deps |= a.type_dependency(arg)
    for name in FUNCTION_FIELDS:
        deps |= function_edge(a, getattr(agg, name))
    return deps | a.grant_dependencies(agg.grants)


def check(a: Analyser) -> None:
    for _, agg in a.p.of(SECTION):
        for name in FUNCTION_FIELDS:
            where = dict(agg.field_locs).get(name, agg.loc)
            check_function_reference(a, getattr(agg, name), f"aggregate {agg.qname}: {name}", where)


def names(a: Analyser, agg: Aggregate, claims: NameClaims) -> None:
    claims.claim("functions", agg.qname, "aggregate", agg.loc)


def types(agg: Aggregate) -> Iterator[tuple[str, SourceLocation | None, str]]:
    for type_text in (*agg.args, agg.stype):
        yield type_text, agg.loc, agg.qname.schema


def nodes(agg: Aggregate) -> tuple[tuple[str, str], ...]:
    return (("aggregate", node_key("function", agg.qname)),)


_UNSUPPORTED = """ARRAY_REMOVE(ARRAY[
    CASE WHEN g.aggkind <> 'n' THEN 'kind ' || g.aggkind::text END,
    CASE WHEN g.aggfinalextra THEN 'finalfunc_extra' END,
    CASE WHEN g.aggfinalmodify <> 'r' THEN 'finalfunc_modify' END,
    CASE WHEN g.aggserialfn <> 0 THEN 'serialfunc' END,
    CASE WHEN g.aggdeserialfn <> 0 THEN 'deserialfunc' END,
    CASE WHEN g.aggmtransfn <> 0 THEN 'msfunc' END,
    CASE WHEN g.aggsortop <> 0 THEN 'sortop' END,
    CASE WHEN g.aggtransspace <> 0 THEN 'sspace' END], NULL)"""

_AGGREGATES = f"""
SELECT p.oid, n.nspname AS schema, p.proname AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity,
       ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY
             AS a(t, i) ORDER BY i) AS args,
       {PROC_NAME.format(oid="g.aggtransfn")} AS sfunc,
       pg_catalog.format_type(g.aggtranstype, NULL) AS stype,
       {PROC_NAME.format(oid="g.aggfinalfn")} AS finalfunc,
       g.agginitval AS initcond,
       {PROC_NAME.format(oid="g.aggcombinefn")} AS combinefunc,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' END AS parallel,
       {_UNSUPPORTED} AS unsupported,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       {acl("p.proacl", "f", "p.proowner")} AS acl,
       {comment("pg_proc", "p.oid")} AS comment
FROM pg_catalog.pg_aggregate g
JOIN pg_catalog.pg_proc p ON p.oid = g.aggfnoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE {USER_NAMESPACE} AND {not_extension_member("pg_proc", "p.oid")}
ORDER BY n.nspname, p.proname, 4
"""


def read(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    for row in rows(conn, _AGGREGATES):
        qname = m.QName(row["schema"], row["name"])
        entries = acl_entries(row["acl"])
        agg = Aggregate(
            qname,
            tuple(row["args"]),
            row["sfunc"],
            row["stype"],
            row["finalfunc"],
            row["initcond"],
            row["combinefunc"],
            row["parallel"],
            grants_of(entries),
            row["comment"],
            CATALOG_LOCATION,
            tuple(row["unsupported"]),
        )
        name = f"{qname.label}({row['identity']})"
        out.add("aggregate", name, agg, owner=row["owner"], acl=entries)


def import_yaml(ctx: Context, agg: Aggregate) -> dict[str, Any]:
    """The YAML of an aggregate read from a database (`schemac import`)."""
    from schemac.importer.extras import report_extras

    name = f"{agg.qname.label}({', '.join(agg.args)})"
    ctx.names.check(f"aggregate {name}", agg.qname.name)
    report_extras(ctx.source.catalog, "aggregate", name, ctx.notes, ctx.source.current_user)
    for attribute in agg.unsupported:
        ctx.notes.lost("aggregate", name, attribute, "the YAML declares plain aggregates")
    schema = agg.qname.schema
    out: dict[str, Any] = {
        "args": list(agg.args),
        "sfunc": written_short(agg.sfunc, schema),
        "stype": agg.stype,
    }
    for key in ("finalfunc", "initcond", "combinefunc", "parallel"):
        value = getattr(agg, key)
        if key in FUNCTION_FIELDS:
            value = written_short(value, schema)
        if value is not None:
            out[key] = value
    grants = ctx.grants("aggregate", name, agg.grants)
    # EXECUTE belongs to PUBLIC by default (an aggregate is never a definer).
    if "execute" in grants.get("public", []):
        grants["public"].remove("execute")
        if not grants["public"]:
            del grants["public"]
    else:
        ctx.notes.lost("aggregate", name, "acl", "EXECUTE revoked from PUBLIC")
    if grants:
        out["grants"] = grants
    if agg.comment is not None:
        out["comment"] = agg.comment
    return out


def migrate(work: psycopg.Connection[Any], desired: psycopg.Connection[Any]) -> list[str]:
    """migra does not diff aggregates: a changed one is dropped and created again (its grants
    and comment come back with the supplements)."""
    return drop_and_create(
        read_kind(work, AGGREGATE),
        read_kind(desired, AGGREGATE),
        AGGREGATE,
        lambda agg: f"DROP AGGREGATE {agg.signature};",
    )


AGGREGATE = Kind(
    "aggregate",
    field=SECTION,
    sections=(SECTION,),
    build=build,
    finish=lambda b: qualify_functions(b, SECTION, FUNCTION_FIELDS),
    nodes=nodes,
    namespaces=("function",),
    edges=edges,
    check=check,
    names=names,
    types=types,
    located=Located("function", ("aggregate", "function")),
    template="aggregate",
    privileges=("routine", frozenset({"all", "execute"})),
    reader=read,
    other_type="aggregate",
    comparison=Comparison(("aggregate",), frozenset({"loc", "grants"})),
    import_yaml=import_yaml,
    migrate=migrate,
)
