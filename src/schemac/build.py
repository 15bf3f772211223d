"""Stage 3, build: validated documents into the immutable model.

Short forms are expanded here (a column's `references:` becomes a foreign key, `tenant:`
becomes RLS plus a policy, schema-wide grants land on each object), unnamed constraints and
indexes get the names PostgreSQL would give them, and names are qualified with their schema.
Each kind's own builder lives with the kind (schemac.kinds); this module runs them in the
registry's order and holds what they share (qualifying names, types, merged grants).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from schemac import kinds
from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.external import build_external
from schemac.loader import Document, LocatedDict, LocatedList
from schemac.positions import value_offset_location
from schemac.project import Settings
from schemac.sql.names import NameChain, NameChainError, parse_name_chain
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.sqlfields import TYPE_HINT, check_documents
from schemac.validate import locate


def _value_location(holder: Any, key: Any) -> SourceLocation | None:
    if isinstance(holder, LocatedDict):
        return holder.value_locations.get(key)
    if isinstance(holder, LocatedList) and isinstance(key, int) and key < len(holder):
        return holder.item_locations[key]
    return None


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


class Builder:
    """The build of one project: what the kinds' builders (schemac.kinds) share."""

    def __init__(self, settings: Settings, units: list[UnitInput]) -> None:
        self.settings = settings
        self.units = units
        self.diagnostics: list[Diagnostic] = []
        self.declared = _Declared()
        self.out: dict[str, list[tuple[int, Any]]] = {field: [] for field in kinds.FIELDS}
        self.unit_models: list[m.UnitModel] = []
        self.schema_docs: dict[str, tuple[int, Document]] = {}
        self.tenancy_type_checked = False

    # -- helpers -----------------------------------------------------------------------------

    def error(self, code: str, message: str, loc: SourceLocation, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def add(self, field: str, unit: int, obj: Any) -> None:
        """One built object of the project field `field` (a kind's), declared in unit `unit`."""
        self.out[field].append((unit, obj))

    def qualify(self, name: str, schema: str, at: tuple[Any, Any] | None = None) -> m.QName:
        """`name` or `schema.name` in SQL's syntax (quoted parts unquoted), in `schema` when
        unqualified. `at` is (holder, key) of the value, for the error's position."""
        chain = self.name_chain(name, at)
        if chain is None:
            return m.QName(schema, name)
        if len(chain.parts) == 2:
            return m.QName(*chain.parts)
        return m.QName(schema, chain.parts[0])

    def name_chain(
        self, text: str, at: tuple[Any, Any] | SourceLocation | None, *, column: bool = False
    ) -> NameChain | None:
        """A reference parsed by PostgreSQL's lexer; None (reported at its position) if it is
        not one."""
        try:
            return parse_name_chain(text, column=column)
        except NameChainError as exc:
            loc = at if isinstance(at, SourceLocation) or at is None else _value_location(*at)
            if loc is not None and exc.offset:
                loc = value_offset_location(loc, exc.offset)
            self.diagnostics.append(
                Diagnostic(
                    "E104",
                    f"{text!r} is not a name: {exc}",
                    loc,
                    'write schema.name; a part that is not lower case goes in double quotes ("My Table")',
                )
            )
            return None

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
        grantable: dict[str, set[str]] = {}  # held WITH GRANT OPTION: `{select: with_grant_option}`
        where: dict[str, SourceLocation] = {}  # the most specific grant of each role
        for source in sources:
            for role, privileges in (source or {}).items():
                if privileges:
                    for item in privileges:
                        name = item if isinstance(item, str) else next(iter(item))
                        merged.setdefault(role, set()).add(name)
                        if not isinstance(item, str):
                            grantable.setdefault(role, set()).add(name)
                else:  # `role: []`: nothing here, whatever a schema-wide grant gave (privileges.py)
                    merged[role] = set()
                    grantable.pop(role, None)
                if isinstance(source, LocatedDict):
                    where[role] = source.key_locations[role]
        return tuple(
            m.Grant(
                role,
                tuple(p for p in m.PRIVILEGE_ORDER if p in privileges),
                where.get(role),
                tuple(p for p in m.PRIVILEGE_ORDER if p in grantable.get(role, ())),
            )
            for role, privileges in sorted(merged.items())
        )

    # -- passes ------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        for unit in self.units:
            self.collect(unit)
        for unit in self.units:
            for doc in unit.documents:
                schema = doc.data.get("schema")
                for kind in _BUILT:
                    if kind.project_wide or schema is not None:
                        kind.build(self, unit.index, schema, doc)  # type: ignore[misc]
        for kind in kinds.KINDS:
            if kind.finish is not None:
                kind.finish(self)
        # external objects (schemac.external): their triggers and policies join self.out
        external, problems = build_external(
            self.settings.root, [(u.index, u.documents) for u in self.units], self.out
        )
        self.diagnostics += problems
        built = {k: tuple(v) for k, v in self.out.items()}
        more = {k: built.pop(k) for k in list(built) if k not in _PROJECT_FIELDS}
        project = m.Project(tuple(self.unit_models), **built, more=more, external=external)
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
                for key in kinds.SCHEMA_SECTIONS:
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
            for section, type_names in _TYPE_SECTIONS:
                declared = data.get(section, {}) or {}
                types.update(declared)
                if type_names is not None:
                    for name, spec in declared.items():
                        types.update(type_names(name, spec))


_PROJECT_FIELDS = frozenset(f.name for f in fields(m.Project))
_BUILT = tuple(kind for kind in kinds.KINDS if kind.build is not None)
_TYPE_SECTIONS = tuple(
    (section, kind.type_names) for kind in kinds.KINDS for section in kind.type_sections
)


def build_project(settings: Settings, units: Iterable[UnitInput]) -> BuildResult:
    units = list(units)
    result = Builder(settings, units).run()
    # Every SQL and typed field, parsed at its position in the YAML (E310, E315, E317-E319).
    result.diagnostics.extend(check_documents([d for unit in units for d in unit.documents]))
    return result


def unit_inputs(documents_by_unit: list[tuple[str, list[Document]]]) -> list[UnitInput]:
    return [UnitInput(i, name, docs) for i, (name, docs) in enumerate(documents_by_unit)]
