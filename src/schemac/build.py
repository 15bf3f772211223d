"""Stage 3, build: validated documents into the immutable model.

Short forms are expanded here (a column's `references:` becomes a foreign key, `tenant:`
becomes RLS plus a policy, schema-wide grants land on each object), unnamed constraints and
indexes get the names PostgreSQL would give them, and names are qualified with their schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.external import build_external
from schemac.limits import FileRefused, read_body_file
from schemac.loader import Document, LocatedDict
from schemac.naming import default_constraint_name, make_object_name, quote_ident, quote_literal
from schemac.project import Settings
from schemac.seeds import check_seed, seed_column_locations
from schemac.sql.parse import SqlSyntaxError, parse_index_column, parse_type_name, setof_rest
from schemac.sql.typed import plain_name_error, storage_value_sql
from schemac.sqlfields import TYPE_HINT, check_body_file, check_documents
from schemac.types import SERIAL_TYPES, base_type_name
from schemac.validate import locate


@dataclass
class UnitInput:
    index: int
    name: str
    documents: list[Document]


@dataclass
class _Declared:
    """Names known before objects are built, so short references can be qualified."""

    types: dict[str, set[str]] = field(default_factory=dict)  # schema -> enum/domain/table names


@dataclass
class BuildResult:
    project: m.Project
    diagnostics: list[Diagnostic]


class _Builder:
    def __init__(self, settings: Settings, units: list[UnitInput]) -> None:
        self.settings = settings
        self.units = units
        self.diagnostics: list[Diagnostic] = []
        self.declared = _Declared()
        self.out: dict[str, list[tuple[int, Any]]] = {
            k: []
            for k in (
                "extensions",
                "roles",
                "schemas",
                "enums",
                "domains",
                "sequences",
                "tables",
                "partitions",
                "foreign_keys",
                "indexes",
                "views",
                "functions",
                "triggers",
                "policies",
                "seeds",
            )
        }
        self.unit_models: list[m.UnitModel] = []
        self.schema_docs: dict[str, tuple[int, Document]] = {}
        self.tenancy_type_checked = False

    # -- helpers -----------------------------------------------------------------------------

    def error(self, code: str, message: str, loc: SourceLocation, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def qualify(self, name: str, schema: str) -> m.QName:
        if "." in name:
            s, n = name.split(".", 1)
            return m.QName(s, n)
        return m.QName(schema, name)

    def render_type(self, type_text: str, schema: str) -> str:
        """Quote the user-defined part of a type; leave built-in type syntax as written.

        A text that is not one type name was reported at its position (sqlfields); it is kept
        as written here, and the model built from it is never rendered."""
        text = type_text.strip()
        try:
            parsed = parse_type_name(text)
        except SqlSyntaxError:
            return text
        if parsed.schema is not None:
            return parsed.quoted()
        if len(parsed.catalog_name) == 1 and parsed.name in self.declared.types.get(schema, ()):
            return parsed.quoted(schema)
        return text

    def check_tenancy_type(self, type_text: str, loc: SourceLocation) -> None:
        """schemac.yaml's tenancy.type is pasted into every tenant policy: one type name only."""
        if self.tenancy_type_checked:
            return
        self.tenancy_type_checked = True
        try:
            parse_type_name(type_text)
        except SqlSyntaxError as exc:
            self.error(
                "E310",
                f"tenancy.type '{type_text}' in schemac.yaml is not one type name: {exc.error.message}",
                loc,
                hint=TYPE_HINT,
            )

    def grants(self, *sources: Any) -> tuple[m.Grant, ...]:
        merged: dict[str, set[str]] = {}
        where: dict[str, SourceLocation] = {}  # the most specific grant of each role
        for source in sources:
            for role, privileges in (source or {}).items():
                merged.setdefault(role, set()).update(privileges)
                if isinstance(source, LocatedDict):
                    where[role] = source.key_locations[role]
        return tuple(
            m.Grant(role, tuple(p for p in m.PRIVILEGE_ORDER if p in privileges), where.get(role))
            for role, privileges in sorted(merged.items())
        )

    # -- passes ------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        for unit in self.units:
            self.collect(unit)
        for unit in self.units:
            self.build_unit(unit)
        self.resolve_foreign_keys()
        # external objects (schemac.external): their triggers and policies join self.out
        external, problems = build_external(
            self.settings.root, [(u.index, u.documents) for u in self.units], self.out
        )
        self.diagnostics += problems
        project = m.Project(
            units=tuple(self.unit_models),
            **{k: tuple(v) for k, v in self.out.items()},
            external=external,
        )
        return BuildResult(project, self.diagnostics)

    def collect(self, unit: UnitInput) -> None:
        schemas = {d.data.get("schema") for d in unit.documents if isinstance(d.data, dict)} - {
            None
        }
        if len(schemas) > 1:
            for doc in unit.documents:
                self.error(
                    "E301",
                    f"the files of '{unit.name}' name different schemas ({', '.join(sorted(str(s) for s in schemas))})",
                    locate(doc, ["schema"]),
                    hint="a folder holds one schema; split it into folders",
                )
        schema = next(iter(schemas), None)
        self.unit_models.append(
            m.UnitModel(unit.index, unit.name, schema, tuple(str(d.path) for d in unit.documents))
        )
        for doc in unit.documents:
            data = doc.data
            s = data.get("schema")
            if s is None:
                for key in (
                    "enums",
                    "domains",
                    "sequences",
                    "tables",
                    "views",
                    "materialized_views",
                    "functions",
                    "procedures",
                    "grants",
                    "table_grants",
                    "sequence_grants",
                    "function_grants",
                    "comment",
                    "owner",
                ):
                    if key in data:
                        self.error(
                            "E302",
                            f"'{key}' needs a schema: this document has no 'schema:' key",
                            data.key_locations[key],
                            hint="add 'schema: <name>' at the top, or move this to a schema file",
                        )
                continue
            if s in self.schema_docs and self.schema_docs[s][0] != unit.index:
                other = self.schema_docs[s][1]
                self.error(
                    "E300",
                    f"schema '{s}' is already declared in {other.path}",
                    locate(doc, ["schema"]),
                    hint="one schema lives in one file or one folder",
                )
            self.schema_docs.setdefault(s, (unit.index, doc))
            types = self.declared.types.setdefault(s, set())
            types.update(data.get("enums", {}) or {})
            types.update(data.get("domains", {}) or {})
            types.update(data.get("tables", {}) or {})

    def build_unit(self, unit: UnitInput) -> None:
        for doc in unit.documents:
            data: LocatedDict = doc.data
            u = unit.index
            for name, ext in (data.get("extensions") or {}).items():
                self.out["extensions"].append(
                    (
                        u,
                        m.Extension(
                            name,
                            ext.get("schema"),
                            ext.get("version"),
                            ext.get("comment"),
                            data["extensions"].key_locations[name],
                        ),
                    )
                )
            for name, role in (data.get("roles") or {}).items():
                self.out["roles"].append(
                    (
                        u,
                        m.Role(
                            name,
                            bool(role.get("login", False)),
                            bool(role.get("inherit", True)),
                            bool(role.get("bypass_rls", False)),
                            bool(role.get("create_role", False)),
                            bool(role.get("create_db", False)),
                            role.get("connection_limit"),
                            tuple(role.get("member_of", ())),
                            role.get("comment"),
                            data["roles"].key_locations[name],
                        ),
                    )
                )
            schema = data.get("schema")
            if schema is None:
                continue
            self.build_schema_document(u, schema, doc)

    def build_schema_document(self, u: int, schema: str, doc: Document) -> None:
        data: LocatedDict = doc.data
        declared = m.Schema(
            schema,
            data.get("owner"),
            data.get("comment"),
            self.grants(data.get("grants")),
            locate(doc, ["schema"]),
        )
        self.merge_schema(u, declared, doc)
        for name, enum in (data.get("enums") or {}).items():
            values = enum if isinstance(enum, list) else enum["values"]
            comment = None if isinstance(enum, list) else enum.get("comment")
            self.out["enums"].append(
                (
                    u,
                    m.Enum(
                        m.QName(schema, name),
                        tuple(str(v) for v in values),
                        comment,
                        data["enums"].key_locations[name],
                    ),
                )
            )
        for name, dom in (data.get("domains") or {}).items():
            self.out["domains"].append(
                (
                    u,
                    m.Domain(
                        m.QName(schema, name),
                        self.render_type(dom["type"], schema),
                        bool(dom.get("not_null", False)),
                        _sql_value(dom.get("default")),
                        dom.get("collation"),
                        tuple((k, v) for k, v in (dom.get("checks") or {}).items()),
                        dom.get("comment"),
                        data["domains"].key_locations[name],
                    ),
                )
            )
        for name, seq in (data.get("sequences") or {}).items():
            owned_by = None
            if seq.get("owned_by"):
                table_name, _, column = str(seq["owned_by"]).rpartition(".")
                if not table_name or not column:
                    self.error(
                        "E312",
                        "owned_by must be 'table.column'",
                        locate(doc, ["sequences", name, "owned_by"]),
                    )
                else:
                    owned_by = (self.qualify(table_name, schema), column)
            self.out["sequences"].append(
                (
                    u,
                    m.Sequence(
                        m.QName(schema, name),
                        seq.get("type"),
                        seq.get("start"),
                        seq.get("increment"),
                        seq.get("min_value"),
                        seq.get("max_value"),
                        seq.get("cache"),
                        bool(seq.get("cycle", False)),
                        owned_by,
                        self.grants(data.get("sequence_grants"), seq.get("grants")),
                        seq.get("comment"),
                        data["sequences"].key_locations[name],
                    ),
                )
            )
        for name, table in (data.get("tables") or {}).items():
            self.build_table(u, schema, name, table, doc)
        for key, materialized in (("views", False), ("materialized_views", True)):
            for name, view in (data.get(key) or {}).items():
                self.build_view(u, schema, name, view, materialized, doc, key)
        for key, is_procedure in (("functions", False), ("procedures", True)):
            for name, fn in (data.get(key) or {}).items():
                self.build_function(u, schema, name, fn, is_procedure, doc, key)

    def merge_schema(self, u: int, declared: m.Schema, doc: Document) -> None:
        """The files of a folder all name one schema: its owner and comment are said once, grants add up."""
        for i, (unit, existing) in enumerate(self.out["schemas"]):
            if existing.name != declared.name:
                continue
            for key in ("owner", "comment"):
                if getattr(existing, key) is not None and getattr(declared, key) is not None:
                    self.error(
                        "E301",
                        f"the {key} of schema '{declared.name}' is also set in {existing.loc.path.name}",
                        locate(doc, [key]),
                        hint="say it in one file of the folder",
                    )
            self.out["schemas"][i] = (
                unit,
                m.Schema(
                    existing.name,
                    existing.owner or declared.owner,
                    existing.comment or declared.comment,
                    self.grants(
                        *(
                            {g.role: list(g.privileges)}
                            for g in (*existing.grants, *declared.grants)
                        )
                    ),
                    existing.loc,
                ),
            )
            return
        self.out["schemas"].append((u, declared))

    def build_table(self, u: int, schema: str, name: str, t: LocatedDict, doc: Document) -> None:
        qname = m.QName(schema, name)
        path = ["tables", name]
        columns: list[m.Column] = []
        constraints: list[m.Constraint] = []
        pk_columns: list[str] = []
        column_map: LocatedDict = t["columns"]
        for col_name, c in column_map.items():
            loc = column_map.key_locations[col_name]
            if c.get("primary_key"):
                pk_columns.append(col_name)
            identity = c.get("identity")
            generated = _expression(c.get("generated"))
            default = _expression(_sql_value(c.get("default")))
            if identity and (default is not None or generated):
                self.error(
                    "E305",
                    f"column '{col_name}' cannot have identity together with default or generated",
                    loc,
                )
            if generated and default is not None:
                self.error(
                    "E305", f"column '{col_name}' cannot be generated and have a default", loc
                )
            columns.append(
                m.Column(
                    col_name,
                    self.render_type(c["type"], schema),
                    bool(c.get("not_null", False))
                    or bool(c.get("primary_key", False))
                    or bool(identity),
                    default,
                    identity,
                    generated,
                    c.get("collation"),
                    c.get("renamed_from"),
                    c.get("comment"),
                    loc,
                )
            )
            if c.get("unique"):
                constraints.append(
                    m.Constraint(
                        "unique",
                        default_constraint_name(name, [col_name], "key"),
                        (col_name,),
                        loc=loc,
                    )
                )
            if c.get("check"):
                constraints.append(
                    m.Constraint(
                        "check",
                        default_constraint_name(name, [col_name], "check"),
                        expression=_expression(c["check"]),
                        loc=loc,
                    )
                )
            ref = c.get("references")
            if ref is not None:
                self.add_column_reference(
                    u,
                    qname,
                    col_name,
                    ref,
                    schema,
                    c.value_locations["references"],
                )
        pk = t.get("primary_key")
        if pk is not None:
            if pk_columns:
                self.error(
                    "E306",
                    "the primary key is declared twice (on columns and in primary_key)",
                    locate(doc, [*path, "primary_key"]),
                )
            pk_cols = pk if isinstance(pk, list) else pk["columns"]
            pk_name = pk.get("name") if isinstance(pk, dict) else None
            constraints.insert(
                0,
                m.Constraint(
                    "primary_key",
                    pk_name or default_constraint_name(name, [], "pkey"),
                    tuple(pk_cols),
                    loc=locate(doc, [*path, "primary_key"]),
                ),
            )
        elif pk_columns:
            constraints.insert(
                0,
                m.Constraint(
                    "primary_key",
                    default_constraint_name(name, [], "pkey"),
                    tuple(pk_columns),
                    loc=locate(doc, [*path, "columns"]),
                ),
            )
        for i, uq in enumerate(t.get("unique") or []):
            cols = uq if isinstance(uq, list) else uq["columns"]
            opts = uq if isinstance(uq, dict) else {}
            constraints.append(
                m.Constraint(
                    "unique",
                    opts.get("name") or default_constraint_name(name, list(cols), "key"),
                    tuple(cols),
                    nulls_not_distinct=bool(opts.get("nulls_not_distinct", False)),
                    deferrable=bool(opts.get("deferrable", False)),
                    initially_deferred=bool(opts.get("initially_deferred", False)),
                    loc=locate(doc, [*path, "unique", i]),
                )
            )
        checks: LocatedDict = t.get("checks") or LocatedDict()
        for check_name, expression in checks.items():
            constraints.append(
                m.Constraint(
                    "check",
                    check_name,
                    expression=_expression(expression),
                    loc=checks.key_locations[check_name],
                )
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
            constraints.append(
                m.Constraint(
                    "exclusion",
                    ex.get("name") or default_constraint_name(name, columns_for_name, "excl"),
                    tuple(el["column"] for el in ex["elements"] if "column" in el),
                    using=ex.get("using", "gist"),
                    elements=tuple(elements),
                    where=ex.get("where"),
                    deferrable=bool(ex.get("deferrable", False)),
                    initially_deferred=bool(ex.get("initially_deferred", False)),
                    loc=locate(doc, [*path, "exclusions", i]),
                )
            )
        for i, fk in enumerate(t.get("foreign_keys") or []):
            ref = fk["references"]
            self.out["foreign_keys"].append(
                (
                    u,
                    m.ForeignKey(
                        fk.get("name")
                        or default_constraint_name(name, list(fk["columns"]), "fkey"),
                        qname,
                        tuple(fk["columns"]),
                        self.qualify(ref["table"], schema),
                        tuple(ref.get("columns", ())),
                        fk.get("on_delete"),
                        fk.get("on_update"),
                        fk.get("match"),
                        bool(fk.get("deferrable", False)),
                        bool(fk.get("initially_deferred", False)),
                        t["foreign_keys"].item_locations[i],
                    ),
                )
            )
        # Positions straight from the table's own mapping: the same as locate(doc, path),
        # without walking down from the top of the file for every index.
        for i, ix in enumerate(t.get("indexes") or []):
            self.build_index(u, qname, ix, t["indexes"].item_locations[i])
        for trig_name, tr in (t.get("triggers") or {}).items():
            ref = tr.get("referencing") or {}
            self.out["triggers"].append(
                (
                    u,
                    m.Trigger(
                        trig_name,
                        qname,
                        tr["timing"],
                        tuple(tr["events"]),
                        tuple(tr.get("update_of", ())),
                        tr.get("for_each", "statement"),
                        tr.get("when"),
                        self.qualify(tr["function"], schema),
                        tuple(str(a) for a in tr.get("arguments", ())),
                        ref.get("old_table"),
                        ref.get("new_table"),
                        tr.get("comment"),
                        t["triggers"].key_locations[trig_name],
                    ),
                )
            )
        rls = t.get("row_level_security") or {}
        rls_enable = bool(rls.get("enable", False))
        rls_force = bool(rls.get("force", False))
        tenant = t.get("tenant")
        if tenant and (rls.get("enable") is False or rls.get("force") is False):
            self.error(
                "E314",
                "tenant: enables and forces row-level security; row_level_security says otherwise",
                locate(doc, [*path, "row_level_security"]),
                hint="remove row_level_security, or drop tenant: and declare the policies yourself",
            )
        if tenant:
            tenancy = self.settings.tenancy
            tenant_column = tenancy.column if tenant is True else str(tenant)
            loc = t.value_locations["tenant"]
            if tenant_column not in column_map:
                self.error(
                    "E307",
                    f"tenant column '{tenant_column}' is not a column of {qname}",
                    loc,
                    hint="add the column or name the tenant column: tenant: <column>",
                )
            rls_enable = rls_force = True
            self.check_tenancy_type(tenancy.type, loc)
            predicate = (
                f"{quote_ident(tenant_column)} = NULLIF(current_setting({quote_literal(tenancy.setting)}, true), '')"
                f"::{tenancy.type}"
            )
            self.out["policies"].append(
                (
                    u,
                    m.Policy(
                        tenancy.policy,
                        qname,
                        True,
                        "all",
                        (),
                        predicate,
                        predicate,
                        f"Tenant isolation: rows of the organization in {tenancy.setting} only.",
                        loc,
                    ),
                )
            )
        for pol_name, p in (t.get("policies") or {}).items():
            self.out["policies"].append(
                (
                    u,
                    m.Policy(
                        pol_name,
                        qname,
                        p.get("as", "permissive") == "permissive",
                        p.get("command", "all"),
                        tuple(p.get("roles", ())),
                        _expression(p.get("using")),
                        _expression(p.get("with_check")),
                        p.get("comment"),
                        t["policies"].key_locations[pol_name],
                    ),
                )
            )
        partition_by = None
        if t.get("partition_by"):
            spec = t["partition_by"]
            keys = ", ".join(
                quote_ident(k) if plain_name_error(k) is None else f"({k})" for k in spec["key"]
            )
            partition_by = f"{spec['strategy'].upper()} ({keys})"
        for part_name, part in (t.get("partitions") or {}).items():
            loc = t["partitions"].key_locations[part_name]
            if partition_by is None:
                self.error("E308", f"'{name}' has partitions but no partition_by", loc)
                continue
            self.out["partitions"].append(
                (
                    u,
                    m.Partition(
                        m.QName(schema, part_name),
                        qname,
                        _partition_bound(part),
                        part.get("comment"),
                        loc,
                    ),
                )
            )
        document = doc.data
        self.out["tables"].append(
            (
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
                    self.grants(document.get("table_grants"), t.get("grants")),
                    t.get("comment"),
                    document["tables"].key_locations[name],
                    serial_sequences=tuple(
                        make_object_name(name, c.name, "seq")
                        for c in columns
                        if base_type_name(c.type) in SERIAL_TYPES
                    ),
                    sequence_grants=self.grants(document.get("sequence_grants")),
                ),
            )
        )
        seed = t.get("seed")
        if seed:
            self.build_seed(u, qname, seed, locate(doc, [*path, "seed"]))
            self.diagnostics += check_seed(seed, columns, qname)  # seeds.py: keys, values

    def add_column_reference(
        self, u: int, table: m.QName, column: str, ref: Any, schema: str, loc: SourceLocation
    ) -> None:
        if isinstance(ref, str):
            # `[schema.]table[(column)]`, identifiers the JSON Schema pattern has checked.
            head, _, column_part = ref.partition("(")
            ref_schema, _, ref_table = head.rpartition(".")
            target = m.QName(ref_schema or schema, ref_table)
            ref_columns = (column_part.removesuffix(")"),) if column_part else ()
            options: dict[str, Any] = {}
        else:
            target = self.qualify(ref["table"], schema)
            ref_columns = (ref["column"],) if ref.get("column") else ()
            options = ref
        self.out["foreign_keys"].append(
            (
                u,
                m.ForeignKey(
                    options.get("name") or default_constraint_name(table.name, [column], "fkey"),
                    table,
                    (column,),
                    target,
                    ref_columns,
                    options.get("on_delete"),
                    options.get("on_update"),
                    options.get("match"),
                    bool(options.get("deferrable", False)),
                    bool(options.get("initially_deferred", False)),
                    loc,
                ),
            )
        )

    def build_index(self, u: int, table: m.QName, ix: LocatedDict, loc: SourceLocation) -> None:
        elements: list[m.IndexElement] = []
        name_parts: list[str] = []
        for element in ix["columns"]:
            if isinstance(element, str):
                column = parse_index_column(element)
                if column is None:
                    self.error(
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
        # Names and values were checked at their positions (sqlfields, E318).
        storage = tuple(
            (k, storage_value_sql(v) or str(v)) for k, v in (ix.get("with") or {}).items()
        )
        self.out["indexes"].append(
            (
                u,
                m.Index(
                    ix.get("name") or default_constraint_name(table.name, name_parts, "idx"),
                    table,
                    tuple(elements),
                    bool(ix.get("unique", False)),
                    bool(ix.get("nulls_not_distinct", False)),
                    ix.get("method"),
                    _expression(ix.get("where")),
                    tuple(ix.get("include", ())),
                    storage,
                    bool(ix.get("concurrently", False)),
                    ix.get("comment"),
                    loc,
                ),
            )
        )

    def build_view(
        self,
        u: int,
        schema: str,
        name: str,
        v: LocatedDict,
        materialized: bool,
        doc: Document,
        key: str,
    ) -> None:
        qname = m.QName(schema, name)
        self.out["views"].append(
            (
                u,
                m.View(
                    qname,
                    _expression(v["query"].strip().rstrip(";").strip()),
                    tuple(v.get("columns", ())),
                    materialized,
                    bool(v.get("with_data", True)),
                    v.get("security_invoker"),
                    v.get("security_barrier"),
                    v.get("check_option"),
                    tuple(self.qualify(d, schema) for d in v.get("depends_on", ())),
                    self.grants(doc.data.get("table_grants"), v.get("grants")),
                    tuple((k, c) for k, c in (v.get("column_comments") or {}).items()),
                    v.get("comment"),
                    doc.data[key].key_locations[name],
                ),
            )
        )
        for i, ix in enumerate(v.get("indexes") or []):
            self.build_index(u, qname, ix, locate(doc, [key, name, "indexes", i]))

    def build_function(
        self,
        u: int,
        schema: str,
        name: str,
        f: LocatedDict,
        is_procedure: bool,
        doc: Document,
        key: str,
    ) -> None:
        loc = doc.data[key].key_locations[name]
        body = f.get("body")
        if body is None:
            body_path = doc.path.parent / f["body_file"]
            try:  # a regular file inside the project, of bounded size (limits.py)
                body = read_body_file(doc.path, f["body_file"], self.settings.root)
            except FileRefused as exc:
                self.error(exc.code, exc.message, locate(doc, [key, name, "body_file"]), exc.hint)
                body = ""
            if f.get("language", "plpgsql" if is_procedure else "sql") == "sql":
                problem = check_body_file(body, body_path, f"the body of {key[:-1]} '{name}'")
                if problem is not None:
                    self.diagnostics.append(problem)
        returns = f.get("returns")
        rendered_returns: str | None = None
        returns_columns: tuple[tuple[str, str], ...] = ()
        if isinstance(returns, dict):
            returns_columns = tuple(
                (c, self.render_type(t, schema)) for c, t in returns["table"].items()
            )
            cols = ", ".join(f"{quote_ident(c)} {t}" for c, t in returns_columns)
            rendered_returns = f"TABLE ({cols})"
        elif isinstance(returns, str):
            text = returns.strip()
            element = setof_rest(text)
            if element is not None:
                rendered_returns = "SETOF " + self.render_type(element, schema)
            else:
                rendered_returns = self.render_type(text, schema)
        arguments = tuple(
            m.Argument(
                a.get("name"),
                self.render_type(a["type"], schema),
                a.get("mode"),
                _sql_value(a.get("default")),
            )
            for a in f.get("arguments", ())
        )
        grants_source = doc.data.get("function_grants")
        self.out["functions"].append(
            (
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
                    f.get("security") == "definer",
                    f.get("parallel"),
                    f.get("cost"),
                    f.get("rows"),
                    tuple((k, str(v)) for k, v in (f.get("set") or {}).items()),
                    body.strip("\n") + "\n",
                    tuple(self.qualify(d, schema) for d in f.get("depends_on", ())),
                    self.grants(grants_source, f.get("grants")),
                    f.get("comment"),
                    loc,
                    returns_columns,
                ),
            )
        )

    def build_seed(self, u: int, table: m.QName, seed: LocatedDict, loc: SourceLocation) -> None:
        columns: list[str] = []
        for row in seed["rows"]:
            for col in row:
                if col not in columns:
                    columns.append(col)
        rows = tuple(tuple(row.get(c, m.MISSING) for c in columns) for row in seed["rows"])
        self.out["seeds"].append(
            (
                u,
                m.SeedRows(
                    table,
                    tuple(seed["key"]),
                    tuple(columns),
                    rows,
                    loc,
                    seed_column_locations(seed),
                ),
            )
        )

    def resolve_foreign_keys(self) -> None:
        """A reference without columns means the referenced table's primary key."""
        tables = {t.qname: t for _, t in self.out["tables"]}
        resolved: list[tuple[int, Any]] = []
        for u, fk in self.out["foreign_keys"]:
            if not fk.ref_columns:
                target = tables.get(fk.ref_table)
                pk = (
                    next((c for c in target.constraints if c.kind == "primary_key"), None)
                    if target
                    else None
                )
                if target is not None and pk is None:
                    self.error(
                        "E311",
                        f"{fk.ref_table} has no primary key to reference",
                        fk.loc,
                        hint="name the referenced column: table(column)",
                    )
                if pk is not None:
                    fk = replace(fk, ref_columns=pk.columns)
            resolved.append((u, fk))
        self.out["foreign_keys"] = resolved


def _expression(text: Any) -> Any:
    """SQL as written; a trailing -- comment gets a line end so it cannot swallow what follows."""
    if isinstance(text, str) and "--" in text.rsplit("\n", 1)[-1]:
        return text + "\n"
    return text


def _sql_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bound_literal(value: Any) -> str:
    if isinstance(value, str) and value.lower() in ("minvalue", "maxvalue"):
        return value.upper()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return quote_literal(str(value))


def _partition_bound(part: dict[str, Any]) -> str:
    if part.get("default"):
        return "DEFAULT"
    if "in" in part:
        return "FOR VALUES IN (" + ", ".join(_bound_literal(v) for v in part["in"]) + ")"
    if "modulus" in part:
        return f"FOR VALUES WITH (MODULUS {part['modulus']}, REMAINDER {part['remainder']})"
    frm = ", ".join(_bound_literal(v) for v in part["from"])
    to = ", ".join(_bound_literal(v) for v in part["to"])
    return f"FOR VALUES FROM ({frm}) TO ({to})"


def build_project(settings: Settings, units: Iterable[UnitInput]) -> BuildResult:
    units = list(units)
    result = _Builder(settings, units).run()
    # Every SQL and typed field, parsed at its position in the YAML (E310, E315, E317-E319).
    result.diagnostics.extend(check_documents([d for unit in units for d in unit.documents]))
    return result


def unit_inputs(documents_by_unit: list[tuple[str, list[Document]]]) -> list[UnitInput]:
    return [UnitInput(i, name, docs) for i, (name, docs) in enumerate(documents_by_unit)]
