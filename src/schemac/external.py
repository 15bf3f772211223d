"""External objects: what the project references but does not manage (docs/yaml-format.md).

A document's top-level `external:` section names roles, schemas and, per schema, tables with
their columns, functions with their signature, and types that exist in every real database
already (a platform's `auth` schema, `anon`, an extension's types). They are model objects of
their own (`ExternalObjects`, `Project.external`), never among the project's managed objects,
so nothing renders, diffs or checks them; analyse knows their names
(`external_names.know_external`), so a foreign key to `auth.users(id)`, `auth.uid()` or a
grant to `anon` validates; the shadow databases get them first (`schemac.external_shadow`). Triggers and policies listed under an
external table are the project's own and join its managed triggers and policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.kinds.routines import routine_fields
from schemac.kinds.tables import table_fields
from schemac.limits import FileRefused, read_body_file
from schemac.loader import Document, LocatedDict
from schemac.sql.names import NameChainError, parse_name_chain
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.sqlfields import FieldChecker


@dataclass(frozen=True)
class ExternalType:
    """A type created elsewhere; its stub is an enum (`enum:`), a domain (`like:`) or none."""

    qname: m.QName
    enum: tuple[str, ...] | None
    like: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class ShadowSetup:
    """The project's SQL file run on every shadow database for what stubs cannot express."""

    path: Path
    text: str


@dataclass(frozen=True)
class ExternalObjects:
    roles: tuple[str, ...] = ()
    # schemas no `schema:` document manages: created by the stub, never by a migration
    schemas: tuple[str, ...] = ()
    # schemas named under `external:` that a `schema:` document manages: only the objects
    # listed are external there
    shared_schemas: tuple[str, ...] = ()
    tables: tuple[m.Table, ...] = ()
    functions: tuple[m.Function, ...] = ()
    types: tuple[ExternalType, ...] = ()
    stubless: frozenset[m.QName] = frozenset()  # `stub: false`: created by the setup file
    shadow_setup: ShadowSetup | None = None

    @property
    def empty(self) -> bool:
        return not (self.roles or self.schemas or self.tables or self.functions or self.types)

    def owns(self, schema: str | None, name: str | None) -> bool:
        """Whether the object `schema.name` (a relation, routine or type) is external."""
        if schema is None:
            return False
        if schema in self.schemas:
            return True
        qname = m.QName(schema, name or "")
        names = {t.qname for t in self.tables} | {f.qname for f in self.functions}
        return qname in names or qname in {t.qname for t in self.types}


NO_EXTERNALS = ExternalObjects()


class _ExternalBuilder:
    def __init__(self, root: Path, documents: list[Document], managed: set[str]) -> None:
        self.root = root
        self.documents = documents
        self.managed = managed
        self.diagnostics: list[Diagnostic] = []
        self.roles: dict[str, SourceLocation] = {}
        self.schemas: dict[str, SourceLocation] = {}
        self.tables: list[m.Table] = []
        self.functions: list[m.Function] = []
        self.types: list[ExternalType] = []
        self.stubless: set[m.QName] = set()
        self.setup: ShadowSetup | None = None
        self.triggers: list[tuple[int, m.Trigger]] = []
        self.policies: list[tuple[int, m.Policy]] = []
        self.seen: dict[tuple[str, m.QName], SourceLocation] = {}

    def error(self, message: str, loc: SourceLocation | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("E390", message, loc, hint))

    def claim(self, kind: str, qname: m.QName, loc: SourceLocation) -> None:
        first = self.seen.setdefault((kind, qname), loc)
        if first is not loc:
            self.error(
                f"external {kind} {qname} is declared twice (first at line {first.line} of "
                f"{first.path.name})",
                loc,
                hint="declare each external object once",
            )

    def document(self, unit: int, doc: Document) -> None:
        section = doc.data.get("external")
        if not isinstance(section, LocatedDict):
            return
        for i, role in enumerate(section.get("roles") or ()):
            self.roles.setdefault(str(role), section["roles"].item_locations[i])
        if "shadow_setup" in section:
            self.shadow_setup(doc, section)
        schemas: LocatedDict = section.get("schemas") or LocatedDict()
        for schema, spec in schemas.items():
            loc = schemas.key_locations[schema]
            if schema not in self.managed:
                self.schemas.setdefault(schema, loc)
            self.schema(unit, str(schema), spec or LocatedDict())

    def shadow_setup(self, doc: Document, section: LocatedDict) -> None:
        loc = section.value_locations["shadow_setup"]
        if self.setup is not None:
            self.error("external shadow_setup is named twice", loc, hint="name one file")
            return
        try:
            text = read_body_file(doc.path, section["shadow_setup"], self.root)
        except FileRefused as exc:
            self.diagnostics.append(
                Diagnostic(
                    exc.code, exc.message.replace("body_file", "shadow_setup"), loc, exc.hint
                )
            )
            return
        self.setup = ShadowSetup(doc.path.parent / section["shadow_setup"], text)

    def schema(self, unit: int, schema: str, spec: LocatedDict) -> None:
        checker = FieldChecker()
        for name, t in (spec.get("tables") or {}).items():
            loc = spec["tables"].key_locations[name]
            qname = m.QName(schema, name)
            self.claim("table", qname, loc)
            table_fields(checker, name, t)
            self.table(unit, qname, t, loc)
        for name, f in (spec.get("functions") or {}).items():
            loc = spec["functions"].key_locations[name]
            qname = m.QName(schema, name)
            self.claim("function", qname, loc)
            routine_fields(checker, name, f, is_procedure=False)
            self.functions.append(_function(qname, f, loc))
            if f.get("stub") is False:
                self.stubless.add(qname)
        for name, ty in (spec.get("types") or {}).items():
            loc = spec["types"].key_locations[name]
            qname = m.QName(schema, name)
            self.claim("type", qname, loc)
            ty = ty or {}
            enum = tuple(ty["enum"]) if "enum" in ty else None
            like = ty.get("like")
            if like is not None:
                checker.type(ty, "like", f"the like: of external type '{name}'")
            self.types.append(ExternalType(qname, enum, like, loc))
            if enum is None and like is None:
                self.stubless.add(qname)
        self.diagnostics += checker.diagnostics

    def table(self, unit: int, qname: m.QName, t: LocatedDict, loc: SourceLocation) -> None:
        columns: list[m.Column] = []
        constraints: list[m.Constraint] = []
        for name, spec in (t.get("columns") or {}).items():
            col_loc = t["columns"].key_locations[name]
            spec = {"type": spec} if isinstance(spec, str) else spec
            key = bool(spec.get("primary_key"))
            columns.append(
                m.Column(
                    name,
                    _quoted_type(spec["type"]),
                    key or bool(spec.get("not_null")),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    col_loc,
                )
            )
            if key:
                constraints.append(m.Constraint("primary_key", f"{qname.name}_pkey", (name,)))
            if spec.get("unique"):
                constraints.append(m.Constraint("unique", f"{qname.name}_{name}_key", (name,)))
        if sum(c.kind == "primary_key" for c in constraints) > 1:
            self.error(f"external table {qname} has more than one primary_key: column", loc)
        self.tables.append(
            m.Table(
                qname,
                tuple(columns),
                tuple(constraints),
                False,
                None,
                False,
                False,
                None,
                (),
                None,
                loc,
            )
        )
        if t.get("stub") is False:
            self.stubless.add(qname)
        for name, tr in (t.get("triggers") or {}).items():
            self.triggers.append(
                (unit, _trigger(qname, name, tr, t["triggers"].key_locations[name]))
            )
        for name, p in (t.get("policies") or {}).items():
            self.policies.append((unit, _policy(qname, name, p, t["policies"].key_locations[name])))

    def result(self) -> ExternalObjects:
        shared = sorted(
            {t.qname.schema for t in self.tables}
            | {f.qname.schema for f in self.functions}
            | {ty.qname.schema for ty in self.types}
        )
        return ExternalObjects(
            roles=tuple(sorted(self.roles)),
            schemas=tuple(sorted(self.schemas)),
            shared_schemas=tuple(s for s in shared if s in self.managed),
            tables=tuple(self.tables),
            functions=tuple(self.functions),
            types=tuple(self.types),
            stubless=frozenset(self.stubless),
            shadow_setup=self.setup,
        )


def build_external(
    root: Path, documents_by_unit: list[tuple[int, list[Document]]], out: dict[str, list[Any]]
) -> tuple[ExternalObjects, list[Diagnostic]]:
    """The `external:` sections of every document; their tables' triggers and policies are
    appended to the project's managed ones in ``out`` (build.py's lists by kind)."""
    managed = {
        str(d.data["schema"])
        for _, docs in documents_by_unit
        for d in docs
        if isinstance(d.data, dict) and d.data.get("schema") is not None
    }
    builder = _ExternalBuilder(root, [d for _, docs in documents_by_unit for d in docs], managed)
    for unit, docs in documents_by_unit:
        for doc in docs:
            if isinstance(doc.data, LocatedDict) and "external" in doc.data:
                builder.document(unit, doc)
    out["triggers"].extend(builder.triggers)
    out["policies"].extend(builder.policies)
    externals = builder.result()
    out["foreign_keys"][:] = _resolved(out["foreign_keys"], externals, builder.diagnostics)
    if not externals.empty or externals.shadow_setup is not None:
        builder.diagnostics += _stubless_without_setup(externals, builder.documents)
    return externals, builder.diagnostics


def _resolved(
    foreign_keys: list[tuple[int, m.ForeignKey]],
    externals: ExternalObjects,
    diagnostics: list[Diagnostic],
) -> list[tuple[int, m.ForeignKey]]:
    """A reference to an external table without columns means that table's primary key."""
    tables = {t.qname: t for t in externals.tables}
    resolved = []
    for u, fk in foreign_keys:
        target = tables.get(fk.ref_table)
        if target is not None and not fk.ref_columns:
            pk = next((c for c in target.constraints if c.kind == "primary_key"), None)
            if pk is None:
                diagnostics.append(
                    Diagnostic(
                        "E311",
                        f"external table {fk.ref_table} has no primary key to reference",
                        fk.loc,
                        hint="mark its key column primary_key: true, or name the column: table(column)",
                    )
                )
            else:
                fk = replace(fk, ref_columns=pk.columns)
        resolved.append((u, fk))
    return resolved


def _stubless_without_setup(
    externals: ExternalObjects, documents: list[Document]
) -> list[Diagnostic]:
    """A declared object no stub creates needs the setup file, or replay would fail later."""
    if externals.shadow_setup is not None:
        return []
    locs = {ty.qname: ty.loc for ty in externals.types}
    locs |= {t.qname: t.loc for t in externals.tables}
    locs |= {f.qname: f.loc for f in externals.functions}
    return [
        Diagnostic(
            "E391",
            f"external {q} has no stub and no shadow_setup creates it",
            locs.get(q),
            hint="give a type enum: or like:, or create it in a file named by external.shadow_setup",
        )
        for q in sorted(externals.stubless, key=str)
    ]


def _quoted_type(text: str) -> str:
    try:
        parsed = parse_type_name(text.strip())
    except SqlSyntaxError:
        return text  # reported at its position by the checker (E310)
    return parsed.quoted() if parsed.schema is not None else text.strip()


def _function(qname: m.QName, f: LocatedDict, loc: SourceLocation) -> m.Function:
    arguments = tuple(
        m.Argument(a.get("name"), _quoted_type(a["type"]), a.get("mode"), None)
        if isinstance(a, dict)
        else m.Argument(None, _quoted_type(str(a)), None, None)
        for a in f.get("arguments") or ()
    )
    returns = str(f.get("returns", "void"))
    setof = returns.lower().startswith("setof ")
    rendered = ("SETOF " if setof else "") + _quoted_type(returns[6:] if setof else returns)
    return m.Function(
        qname,
        False,
        "plpgsql",
        arguments,
        rendered,
        f.get("volatility"),
        False,
        False,
        False,
        None,
        None,
        None,
        (),
        "",
        (),
        (),
        None,
        loc,
    )


def _trigger(table: m.QName, name: str, tr: LocatedDict, loc: SourceLocation) -> m.Trigger:
    ref = tr.get("referencing") or {}
    function = str(tr["function"])
    try:  # SQL's syntax, as every reference (`"Auth"."On Signup"`)
        *qualifier, bare = parse_name_chain(function).parts
        schema = qualifier[0] if qualifier else ""
    except NameChainError:  # not a name: the function is unknown, reported as such
        schema, _, bare = function.rpartition(".")
    return m.Trigger(
        name,
        table,
        tr["timing"],
        tuple(tr["events"]),
        tuple(tr.get("update_of", ())),
        tr.get("for_each", "statement"),
        tr.get("when"),
        m.QName(schema or table.schema, bare),
        tuple(str(a) for a in tr.get("arguments", ())),
        ref.get("old_table"),
        ref.get("new_table"),
        tr.get("comment"),
        loc,
    )


def _policy(table: m.QName, name: str, p: LocatedDict, loc: SourceLocation) -> m.Policy:
    def expression(text: Any) -> Any:
        # as build.py's _expression: a trailing -- comment must not swallow what follows
        if isinstance(text, str) and "--" in text.rsplit("\n", 1)[-1]:
            return text + "\n"
        return text

    return m.Policy(
        name,
        table,
        p.get("as", "permissive") == "permissive",
        p.get("command", "all"),
        tuple(p.get("roles", ())),
        expression(p.get("using")),
        expression(p.get("with_check")),
        p.get("comment"),
        loc,
    )
