"""Range types (`range_types:`): `CREATE TYPE s.r AS RANGE (SUBTYPE = ..., ...)`.

The whole kind in one module, as composite types are (docs/architecture.md "Adding an object
kind"). A range type brings its multirange type (PostgreSQL 14+), named by
`multirange_type_name` or by PostgreSQL's own rule; both names are types of the schema.
Function references (`canonical`, `subtype_diff`): `kinds/functions_named.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION
from schemac.catalog.indexes import OPCLASS_NAME
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
from schemac.kinds.common import dollar_tag
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
from schemac.kinds.types import revokes_usage
from schemac.node_keys import node_key
from schemac.sqlfields import FieldChecker

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.importer.context import Context
    from schemac.loader import Document, LocatedDict

SECTION = "range_types"
# The privileges that apply to the multirange, as the catalog reader keeps them.
MULTIRANGE_ACL = "multirange: acl"
# From PostgreSQL 17 GRANT and REVOKE on a multirange are refused and its privileges are its
# range's; 14-16 take them and keep the multirange's ACL apart (16.14 measured, 15.18 pinned in
# tests/catalog/test_multiranges.py). Older targets get the range's grants on the multirange too.
MULTIRANGE_ACL_FOLLOWS_RANGE_SINCE = 17


@dataclass(frozen=True)
class RangeType:
    qname: m.QName
    subtype: str  # rendered type
    subtype_opclass: str | None  # None: the subtype's default btree operator class
    collation: str | None
    canonical: str | None  # `schema.function`, or a built-in's bare name
    subtype_diff: str | None
    multirange: m.QName  # the multirange type PostgreSQL creates with the range
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    field_locs: tuple[tuple[str, SourceLocation], ...] = field(
        default=(), compare=False, repr=False
    )
    grants: tuple[m.Grant, ...] = ()  # USAGE on the range (schemac.privileges)
    revoke_public: bool = False  # PUBLIC's built-in USAGE revoked
    # the target keeps the multirange's ACL apart (PostgreSQL 16 and older): the range's
    # grants are rendered on it too, guarded by the server's version (17+ refuses them)
    multirange_grants: bool = False

    @property
    def multirange_tag(self) -> str:
        """The dollar quote of the DO block granting on the multirange."""
        return dollar_tag(" ".join([self.multirange.sql, *(g.role for g in self.grants)]))


def default_multirange_name(range_name: str) -> str:
    """PostgreSQL's name for a range's multirange: 'multi' before the first 'range' in the
    name, else '_multirange' appended (makeMultirangeTypeName)."""
    at = range_name.find("range")
    if at < 0:
        return f"{range_name}_multirange"[:63]
    return f"{range_name[:at]}multi{range_name[at:]}"[:63]


def multirange_of(schema: str, name: str, declared: Any) -> m.QName:
    written = declared.get("multirange_type_name") if declared is not None else None
    if written is None:
        return m.QName(schema, default_multirange_name(name))
    return m.QName(schema, written)


def multirange_names(name: str, declared: Any) -> tuple[str, ...]:
    """The multirange a declared range brings: a column may name it as it names the range."""
    written = declared.get("multirange_type_name") if isinstance(declared, dict) else None
    if written is not None and not isinstance(written, str):
        return ()  # not a name: the JSON Schema reports it
    return (written or default_multirange_name(name),)


def local_multiranges(catalog: CatalogModel) -> frozenset[tuple[str, str]]:
    """The multiranges a column of the range's schema may name bare (`schemac import`): those
    in the range's own schema, where the YAML's `multirange_type_name` puts them."""
    return frozenset(
        (rng.multirange.schema, rng.multirange.name)
        for rng in catalog.of("range type").values()
        if rng.multirange.schema == rng.qname.schema
    )


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    section: LocatedDict | None = doc.data.get(SECTION)
    for name, declared in (section or {}).items():
        checker = FieldChecker()
        checker.type(declared, "subtype", f"the subtype of range type '{name}'")
        b.diagnostics.extend(checker.diagnostics)
        grants = b.grants(declared.get("grants"))
        b.add(
            SECTION,
            u,
            RangeType(
                m.QName(schema, name),
                b.render_type(declared["subtype"], schema),
                declared.get("subtype_opclass"),
                declared.get("collation"),
                None,  # `canonical`: a C function taking the shell type, which YAML cannot declare
                local_function(doc, schema, declared.get("subtype_diff")),
                multirange_of(schema, name, declared),
                declared.get("comment"),
                section.key_locations[name],  # type: ignore[union-attr]
                value_locations(declared, ("subtype_diff",)),
                grants,
                revokes_usage(b, grants),
                b.settings.postgres_version < MULTIRANGE_ACL_FOLLOWS_RANGE_SINCE,
            ),
        )


def edges(a: Analyser, rng: RangeType) -> set[str]:
    # The multirange is created with the range: a column of it depends on the range's node
    # (ranges are linked before the tables and routines that use them).
    a.type_keys.setdefault(rng.multirange, node_key("type", rng.qname))
    deps = set(a.type_dependency(rng.subtype)) | a.grant_dependencies(rng.grants)
    for function in (rng.canonical, rng.subtype_diff):
        deps |= function_edge(a, function)
    return deps


def check(a: Analyser) -> None:
    for _, rng in a.p.of(SECTION):
        for what, function in (("canonical", rng.canonical), ("subtype_diff", rng.subtype_diff)):
            where = dict(rng.field_locs).get(what, rng.loc)
            check_function_reference(a, function, f"range type {rng.qname}: {what}", where)


def names(a: Analyser, rng: RangeType, claims: NameClaims) -> None:
    claims.claim("types", rng.qname, "range type", rng.loc)
    claims.claim("types", rng.multirange, "multirange type of a range type", rng.loc)


def types(rng: RangeType) -> Iterator[tuple[str, SourceLocation | None, str]]:
    yield rng.subtype, rng.loc, rng.qname.schema


def nodes(rng: RangeType) -> tuple[tuple[str, str], ...]:
    return (("range", node_key("type", rng.qname)),)


_RANGES = f"""
SELECT t.oid, n.nspname AS schema, t.typname AS name,
       pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
       CASE WHEN NOT oc.opcdefault THEN {OPCLASS_NAME.format(ns="ocn", oc="oc")} END AS opclass,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation IS DISTINCT FROM st.typcollation
            THEN (SELECT co.collname FROM pg_catalog.pg_collation co
                  WHERE co.oid = r.rngcollation) END AS collation,
       {PROC_NAME.format(oid="r.rngcanonical")} AS canonical,
       {PROC_NAME.format(oid="r.rngsubdiff")} AS subtype_diff,
       mn.nspname AS multirange_schema, mt.typname AS multirange_name,
       CASE WHEN pg_catalog.current_setting('server_version_num')::integer < 170000
            THEN {acl("mt.typacl", "T", "mt.typowner")} END AS multirange_acl,
       {comment("pg_type", "mt.oid")} AS multirange_comment,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner,
       {acl("t.typacl", "T", "t.typowner")} AS acl,
       {comment("pg_type", "t.oid")} AS comment
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
JOIN pg_catalog.pg_type mt ON mt.oid = r.rngmultitypid
JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace
WHERE {USER_NAMESPACE} AND {not_extension_member("pg_type", "t.oid")}
ORDER BY n.nspname, t.typname
"""


def read(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    for row in rows(conn, _RANGES):
        qname = m.QName(row["schema"], row["name"])
        entries = acl_entries(row["acl"])
        rng = RangeType(
            qname,
            row["subtype"],
            row["opclass"],
            row["collation"],
            row["canonical"],
            row["subtype_diff"],
            m.QName(row["multirange_schema"], row["multirange_name"]),
            row["comment"],
            CATALOG_LOCATION,
            grants=grants_of(entries),
        )
        # The multirange has its own pg_type row. PostgreSQL 17+ refuses GRANT and ALTER on it
        # (its privileges and owner are the range's, has_type_privilege follows the range);
        # 14-16 take GRANT and REVOKE on it and check its own ACL. What applies is read (the
        # range's from 17), so a database of either kind compares with a shadow of the other.
        # COMMENT ON TYPE works on it (pg_dump leaves it out). Both are compared.
        out.add("range type", qname.label, rng, owner=row["owner"], acl=entries)
        own = row["multirange_acl"]
        out.set_extra(
            "range type", qname.label, MULTIRANGE_ACL, entries if own is None else acl_entries(own)
        )
        out.set_extra("range type", qname.label, "multirange: comment", row["multirange_comment"])


def import_yaml(ctx: Context, rng: RangeType) -> dict[str, Any]:
    """The YAML of a range type read from a database (`schemac import`)."""
    from schemac.importer.routines import type_grants

    name = rng.qname.label
    grants = type_grants(ctx, "range type", rng.qname)
    if rng.canonical is not None:
        ctx.notes.lost("range type", name, "canonical", rng.canonical)
    # (A comment on the multirange is a loss of type_grants' report: the YAML has no place.)
    extras = ctx.extras("range type", name)
    multirange_acl = extras.get(MULTIRANGE_ACL)
    if multirange_acl is not None and multirange_acl != extras.get("acl"):
        ctx.notes.lost(
            "range type",
            name,
            MULTIRANGE_ACL,
            f"{rng.multirange} holds other privileges than its range (PostgreSQL 16 and older "
            "keep them apart): the YAML's grants are the range's, given to both",
        )
    out: dict[str, Any] = {"subtype": rng.subtype}
    for key, value in (
        ("subtype_opclass", rng.subtype_opclass),
        ("collation", rng.collation),
        ("subtype_diff", written_short(rng.subtype_diff, rng.qname.schema)),
    ):
        if value is not None:
            out[key] = value
    if rng.multirange != m.QName(rng.qname.schema, default_multirange_name(rng.qname.name)):
        out["multirange_type_name"] = rng.multirange.name
    if rng.comment is not None:
        out["comment"] = rng.comment
    if grants:
        out["grants"] = grants
    return out


def migrate(work: psycopg.Connection[Any], desired: psycopg.Connection[Any]) -> list[str]:
    """migra does not diff range types: a changed one is dropped and created again (DROP
    TYPE fails while a column uses it, naming it; destructive.py asks for the drop)."""
    return drop_and_create(
        read_kind(work, RANGE_TYPE),
        read_kind(desired, RANGE_TYPE),
        RANGE_TYPE,
        lambda rng: f"DROP TYPE {rng.qname.sql};",
    )


RANGE_TYPE = Kind(
    "range",
    field=SECTION,
    sections=(SECTION,),
    type_sections=(SECTION,),
    type_names=multirange_names,
    build=build,
    finish=lambda b: qualify_functions(b, SECTION, ("canonical", "subtype_diff")),
    nodes=nodes,
    namespaces=("type",),
    edges=edges,
    check=check,
    names=names,
    types=types,
    located=Located("type", ("type", "range type")),
    template="range",
    privileges=("type", frozenset({"all", "usage"})),
    # The `other` kind leaves out the range (other_type), its multirange type and the cast
    # between them (parts of the range: internal dependencies, catalog/others.py).
    reader=read,
    other_type="type",
    comparison=Comparison(
        ("range type",), frozenset({"loc", "grants", "revoke_public", "multirange_grants"})
    ),
    import_yaml=import_yaml,
    migrate=migrate,
)
