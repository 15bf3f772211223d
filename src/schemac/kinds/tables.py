"""Tables: columns and the constraints written inside them (primary key, unique, check,
exclusion); what a table declares that PostgreSQL creates on it has a module of its own:
partitions, foreign_keys, indexes, triggers, policies, seeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.relations import read_relations
from schemac.diagnostics import SourceLocation
from schemac.identity import normalised
from schemac.kinds import foreign_keys, partitions, policies, triggers
from schemac.kinds.common import expression, imported_by, one_node, sql_value
from schemac.kinds.indexes import build_index, index_fields
from schemac.kinds.registry import Comparison, Kind, Located, Reading
from schemac.kinds.replica_identity import replica_identity_location, replica_identity_of
from schemac.kinds.seeds import build_seed
from schemac.loader import LocatedDict
from schemac.naming import default_constraint_name, make_object_name, quote_ident
from schemac.seeds import check_seed
from schemac.sql.parse import partition_columns
from schemac.sql.typed import plain_name_error
from schemac.sqlfields import enumerated, items
from schemac.target import FEATURES
from schemac.types import SERIAL_TYPES, base_type_name
from schemac.validate import locate

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.loader import Document
    from schemac.sqlfields import FieldChecker

TABLE_PRIVILEGES = frozenset(m.TABLE_PRIVILEGES)
VIRTUAL_GENERATED_SINCE = FEATURES["virtual generated column"]
IDENTITY_TYPES = ("smallint", "integer", "int", "bigint", "int2", "int4", "int8")


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    for name, table in (doc.data.get("tables") or {}).items():
        build_table(b, u, schema, name, table, doc)


def _column(
    b: Builder, schema: str, col_name: str, c: LocatedDict, loc: SourceLocation
) -> m.Column:
    identity_spec = c.get("identity")
    # `identity: always`, or `identity: {generated: always, start: 100, ...}`
    identity = (
        identity_spec.get("generated", "by_default")
        if isinstance(identity_spec, dict)
        else identity_spec
    )
    options = normalised(c["type"], identity_spec) if isinstance(identity_spec, dict) else ()
    generated_spec = c.get("generated")
    # `generated: expr` (stored), or `generated: {expression: expr, stored: false}`
    virtual = isinstance(generated_spec, dict) and not generated_spec.get("stored", True)
    generated = expression(
        generated_spec["expression"] if isinstance(generated_spec, dict) else generated_spec
    )
    if virtual and b.settings.postgres_version < VIRTUAL_GENERATED_SINCE:
        b.error(
            "E356",
            f"column '{col_name}' is a virtual generated column, which PostgreSQL "
            f"{VIRTUAL_GENERATED_SINCE} introduced; the project's target is PostgreSQL "
            f"{b.settings.postgres_version}",
            c["generated"].value_locations.get("stored", loc),
            hint="set postgres_version: 18 in schemac.yaml, or write stored: true",
        )
    default = expression(sql_value(c.get("default")))
    if identity and (default is not None or generated):
        b.error(
            "E305",
            f"column '{col_name}' cannot have identity together with default or generated",
            loc,
        )
    if generated and default is not None:
        b.error("E305", f"column '{col_name}' cannot be generated and have a default", loc)
    return m.Column(
        col_name,
        b.render_type(c["type"], schema),
        bool(c.get("not_null", False)) or bool(c.get("primary_key", False)) or bool(identity),
        default,
        identity,
        generated,
        c.get("collation"),
        c.get("renamed_from"),
        c.get("comment"),
        loc,
        identity_options=options,
        generated_virtual=virtual,
        grants=b.grants(c.get("grants")),
    )


def _columns(
    b: Builder, u: int, qname: m.QName, t: LocatedDict
) -> tuple[list[m.Column], list[m.Constraint], list[str]]:
    """The columns, the constraints written on them, and the primary key columns they mark."""
    columns: list[m.Column] = []
    constraints: list[m.Constraint] = []
    pk_columns: list[str] = []
    column_map: LocatedDict = t["columns"]
    name = qname.name
    for col_name, c in column_map.items():
        loc = column_map.key_locations[col_name]
        if c.get("primary_key"):
            pk_columns.append(col_name)
        columns.append(_column(b, qname.schema, col_name, c, loc))
        if c.get("unique"):
            constraints.append(
                m.Constraint(
                    "unique", default_constraint_name(name, [col_name], "key"), (col_name,), loc=loc
                )
            )
        if c.get("check"):
            constraints.append(
                m.Constraint(
                    "check",
                    default_constraint_name(name, [col_name], "check"),
                    expression=expression(c["check"]),
                    loc=loc,
                )
            )
        ref = c.get("references")
        if ref is not None:
            foreign_keys.add_column_reference(
                b, u, qname, col_name, ref, c.value_locations["references"]
            )
    return columns, constraints, pk_columns


def primary_key(
    b: Builder, name: str, t: LocatedDict, pk_columns: list[str], doc: Document, path: list[Any]
) -> m.Constraint | None:
    pk = t.get("primary_key")
    if pk is not None:
        if pk_columns:
            b.error(
                "E306",
                "the primary key is declared twice (on columns and in primary_key)",
                locate(doc, [*path, "primary_key"]),
            )
        pk_cols = pk if isinstance(pk, list) else pk["columns"]
        pk_name = pk.get("name") if isinstance(pk, dict) else None
        return m.Constraint(
            "primary_key",
            pk_name or default_constraint_name(name, [], "pkey"),
            tuple(pk_cols),
            loc=locate(doc, [*path, "primary_key"]),
            comment=pk.get("comment") if isinstance(pk, dict) else None,
        )
    if pk_columns:
        return m.Constraint(
            "primary_key",
            default_constraint_name(name, [], "pkey"),
            tuple(pk_columns),
            loc=locate(doc, [*path, "columns"]),
        )
    return None


def table_constraints(
    name: str, t: LocatedDict, doc: Document, path: list[Any]
) -> Iterator[m.Constraint]:
    """`unique:`, `checks:` and `exclusions:` of the table, in that order."""
    for i, uq in enumerate(t.get("unique") or []):
        cols = uq if isinstance(uq, list) else uq["columns"]
        opts = uq if isinstance(uq, dict) else {}
        yield m.Constraint(
            "unique",
            opts.get("name") or default_constraint_name(name, list(cols), "key"),
            tuple(cols),
            nulls_not_distinct=bool(opts.get("nulls_not_distinct", False)),
            deferrable=bool(opts.get("deferrable", False)),
            initially_deferred=bool(opts.get("initially_deferred", False)),
            loc=locate(doc, [*path, "unique", i]),
            comment=opts.get("comment"),
        )
    checks: LocatedDict = t.get("checks") or LocatedDict()
    for check_name, check in checks.items():
        # `name: expression`, or `name: {expression:, comment:}`
        text = check["expression"] if isinstance(check, dict) else check
        yield m.Constraint(
            "check",
            check_name,
            expression=expression(text),
            loc=checks.key_locations[check_name],
            comment=check.get("comment") if isinstance(check, dict) else None,
        )
    for i, ex in enumerate(t.get("exclusions") or []):
        elements = []
        columns_for_name = []
        for el in ex["elements"]:
            if "column" in el:
                elements.append((quote_ident(el["column"]), el["with"]))
                columns_for_name.append(el["column"])
            else:
                elements.append((f"({el['expression']})", el["with"]))
                columns_for_name.append("expr")
        yield m.Constraint(
            "exclusion",
            ex.get("name") or default_constraint_name(name, columns_for_name, "excl"),
            tuple(el["column"] for el in ex["elements"] if "column" in el),
            using=ex.get("using", "gist"),
            elements=tuple(elements),
            where=ex.get("where"),
            deferrable=bool(ex.get("deferrable", False)),
            initially_deferred=bool(ex.get("initially_deferred", False)),
            loc=locate(doc, [*path, "exclusions", i]),
            comment=ex.get("comment"),
        )


def partition_by_sql(t: LocatedDict) -> str | None:
    spec = t.get("partition_by")
    if not spec:
        return None
    keys = ", ".join(
        quote_ident(k) if plain_name_error(k) is None else f"({k})" for k in spec["key"]
    )
    return f"{spec['strategy'].upper()} ({keys})"


def build_table(b: Builder, u: int, schema: str, name: str, t: LocatedDict, doc: Document) -> None:
    qname = m.QName(schema, name)
    path = ["tables", name]
    columns, constraints, pk_columns = _columns(b, u, qname, t)
    pk = primary_key(b, name, t, pk_columns, doc, path)
    if pk is not None:
        constraints.insert(0, pk)
    constraints += table_constraints(name, t, doc, path)
    foreign_keys.build_foreign_keys(b, u, qname, t)
    # Positions straight from the table's own mapping: the same as locate(doc, path),
    # without walking down from the top of the file for every index.
    for i, ix in enumerate(t.get("indexes") or []):
        build_index(b, u, qname, ix, t["indexes"].item_locations[i])
    triggers.build_triggers(b, u, qname, t)
    rls_enable, rls_force = policies.build_policies(b, u, qname, t, doc, path)
    partition_by = partition_by_sql(t)
    partitions.build_partitions(b, u, qname, t, partition_by, doc, path)
    document = doc.data
    b.add(
        "tables",
        u,
        m.Table(
            qname,
            tuple(columns),
            tuple(constraints),
            bool(t.get("unlogged", False)),
            partition_by,
            rls_enable,
            rls_force,
            t.get("renamed_from"),
            b.grants(document.get("table_grants"), t.get("grants")),
            t.get("comment"),
            document["tables"].key_locations[name],
            serial_sequences=tuple(
                make_object_name(name, c.name, "seq")
                for c in columns
                if base_type_name(c.type) in SERIAL_TYPES
            ),
            sequence_grants=b.grants(document.get("sequence_grants")),
            replica_identity=replica_identity_of(t.get("replica_identity")),
            replica_identity_loc=replica_identity_location(t),
        ),
    )
    seed = t.get("seed")
    if seed:
        build_seed(b, u, qname, seed, locate(doc, [*path, "seed"]))
        b.diagnostics += check_seed(seed, columns, qname)  # seeds.py: keys, values


_COLUMN_SQL = (("default", "default"), ("generated", "generated expression"), ("check", "check"))


def fields(checker: FieldChecker, data: LocatedDict) -> None:
    for name, table in items(data.get("tables")):
        table_fields(checker, name, table)


def table_fields(checker: FieldChecker, name: str, table: LocatedDict) -> None:
    """A table's SQL and typed fields and its members' (also external's tables)."""
    for column_name, column in items(table.get("columns")):
        what = f"column '{column_name}'"
        checker.type(column, "type", f"the type of {what}")
        for key, label in _COLUMN_SQL:
            if key in column:  # most columns have none: the common case costs one lookup
                checker.sql(column, key, f"the {label} of {what}")
        if isinstance(column.get("generated"), LocatedDict):  # {expression:, stored:}
            checker.sql(column["generated"], "expression", f"the generated expression of {what}")
    for check_name, check in items(table.get("checks"), dicts_only=False):
        checker.sql(table["checks"], check_name, f"check '{check_name}' of '{name}'")
        if isinstance(check, LocatedDict):  # {expression:, comment:}
            checker.sql(check, "expression", f"check '{check_name}' of '{name}'")
    for i, exclusion in enumerated(table.get("exclusions")):
        what = f"exclusion {i + 1} of '{name}'"
        checker.sql(exclusion, "where", f"the where of {what}")
        for j, element in enumerated(exclusion.get("elements")):
            checker.sql(element, "expression", f"element {j + 1} of {what}")
            checker.operator(element, f"element {j + 1} of {what}")
    for i, index in enumerated(table.get("indexes")):
        index_fields(checker, f"index {i + 1} of '{name}'", index)
    triggers.trigger_fields(checker, table)
    policies.policy_fields(checker, table)
    spec = table.get("partition_by")
    keys = spec.get("key") if isinstance(spec, LocatedDict) else None
    for i, key in enumerated(keys, dicts_only=False):
        if isinstance(key, str) and plain_name_error(key) is not None:
            checker.sql(keys, i, f"partition key {i + 1} of '{name}'")
    for part_name, part in items(table.get("partitions")):
        table_fields(checker, part_name, part)  # a partition's own checks, indexes, key


def edges(a: Analyser, table: m.Table) -> set[str]:
    deps: set[str] = set()
    for col in table.columns:
        deps |= a.type_dependency(col.type)
        if col.default or col.generated:
            deps |= a.sql_dependencies(col.default, col.generated)
    for con in table.constraints:
        deps |= a.sql_dependencies(con.expression, con.where, *(e for e, _ in con.elements))
    return deps | a.grant_dependencies(table.grants)


def names(a: Analyser, table: m.Table, claims: NameClaims) -> None:
    qname = table.qname
    claims.claim("relations", qname, "table", table.loc)
    claims.claim("types", qname, "table (its row type)", table.loc)
    for col in table.columns:
        claims.name(col.name, col.loc)
    # Constraints and foreign keys share one namespace per table.
    constraint_names: dict[str, SourceLocation | None] = {}
    for con in table.constraints:
        if con.name in constraint_names:
            a.error(
                "E303",
                f"constraint name '{con.name}' is used twice on {qname}",
                con.loc,
                hint="give one of them a name:",
            )
        constraint_names[con.name] = con.loc
        if con.kind in ("primary_key", "unique", "exclusion"):
            claims.claim(
                "relations",
                m.QName(qname.schema, con.name),
                f"index of constraint on {qname}",
                con.loc,
            )
        claims.name(con.name, con.loc)
    for fk in a.fks_by_table.get(qname, ()):
        if fk.name in constraint_names:
            a.error(
                "E303",
                f"constraint name '{fk.name}' is used twice on {qname}",
                fk.loc,
                hint="give the foreign key a name:",
            )
        constraint_names[fk.name] = fk.loc
        claims.name(fk.name, fk.loc)


def types(table: m.Table) -> Iterator[tuple[str, SourceLocation | None, str]]:
    for col in table.columns:
        yield col.type, col.loc, table.qname.schema


def check(a: Analyser) -> None:
    for _, table in a.p.tables:
        if table.partition_by:
            keys = partition_columns(table.partition_by)
            a.check_columns(table.qname, keys, table.loc, "partition_by")
            partitions.check_keys_hold_partition_key(
                a, table.qname, table.constraints, table.partition_by
            )
        for con in table.constraints:
            a.check_columns(
                table.qname, con.columns, con.loc, f"{con.kind.replace('_', ' ')} '{con.name}'"
            )
        for col in table.columns:
            if col.identity and base_type_name(col.type) not in IDENTITY_TYPES:
                a.error(
                    "E331",
                    f"identity column '{col.name}' must be smallint, integer or bigint",
                    col.loc,
                )


def read(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    """Tables, partitions, views, foreign keys and indexes: one query per relation kind."""
    reading.relations = read_relations(conn, out, reading.skipped)


TABLE = Kind(
    "table",
    field="tables",
    sections=("tables", "table_grants"),
    type_sections=("tables",),
    build=build,
    fields=fields,
    nodes=one_node("table", "relation"),
    located=Located("relation", ("table",)),
    namespaces=("relation", "type"),
    edges=edges,
    check=check,
    names=names,
    types=types,
    template="table",
    privileges=("table", TABLE_PRIVILEGES),
    reader=read,
    comparison=Comparison(
        ("table",),
        frozenset({"loc", "renamed_from", "serial_sequences", "sequence_grants", "grants"}),
        {"columns": "column", "constraints": "constraint"},
    ),
    import_unit=imported_by("schemac.importer.tables", "tables_section"),
    grants_section="table_grants",
)
