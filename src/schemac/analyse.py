"""Stage 4, analyse: semantic checks, the dependency graph, and the order objects are created in.

Dependencies come from the model (a foreign key needs both tables, a trigger its function) and
from SQL text: a qualified name of a declared object inside a default, check, view query or
SQL-language function body is a dependency. Foreign keys are separate nodes, so two tables that
reference each other are created first and constrained after: that cycle resolves itself.
Each kind's edges and checks live with the kind (schemac.kinds); this module builds the graph,
orders it, and holds the checks that span kinds (names, types, roles, privileges).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from schemac import kinds
from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.external_names import know_external
from schemac.kinds.partitions import root_table
from schemac.kinds.spanning import (
    NameClaims,
    check_grants,
    check_names,
    check_types,
    qualified_type,
)
from schemac.node_keys import key_label, node_key
from schemac.sql.references import Reference, expression_references, statement_references
from schemac.types import EXTENSION_TYPES, base_type_name

PROJECT_WIDE_UNIT = -1
PRIVILEGES_BY_KIND = kinds.PRIVILEGES_BY_KIND
BUILTIN_ROLES = frozenset({"public", "current_user", "current_role", "session_user"})

# Within one unit, objects of an earlier phase come first when the graph leaves a choice.
PHASES = kinds.PHASES
_PHASE = {name: i for i, name in enumerate(PHASES)}
_NODE_KINDS = tuple(k for k in kinds.KINDS if k.nodes is not None and k.field is not None)


@dataclass
class Node:
    key: str
    kind: str
    home_unit: int
    obj: Any
    loc: SourceLocation | None
    declared: int
    deps: set[str] = field(default_factory=set)
    unit: int = 0  # the migration it is emitted in


@dataclass
class Analysis:
    nodes: list[Node]  # in creation order
    diagnostics: list[Diagnostic]


class Analyser:
    """The analysis of one project: what the kinds' edges and checks (schemac.kinds) share."""

    def __init__(self, project: m.Project) -> None:
        self.p = project
        self.diagnostics: list[Diagnostic] = []
        self.nodes: dict[str, Node] = {}
        self.schemas = {s.name for _, s in project.schemas}
        self.roles = {r.name for _, r in project.roles}
        self.extensions = {e.name for _, e in project.extensions}
        self.tables = {t.qname: t for _, t in project.tables}
        self.views = {v.qname: v for _, v in project.views}
        self.functions = {f.qname: f for _, f in project.functions}
        self.partitions = {p.qname: p for _, p in project.partitions}
        self.keys: dict[str, dict[m.QName, str]] = {"relation": {}, "type": {}, "function": {}}
        self.relation_keys = self.keys["relation"]
        self.type_keys = self.keys["type"]
        self.function_keys = self.keys["function"]
        self.memo: dict[str, Any] = {}  # what a kind's edges or checks work out once
        self._unique_keys: dict[m.QName, set[frozenset[str]]] | None = None
        self._type_dependencies: dict[str, frozenset[str]] = {}
        self.fks_by_table: dict[m.QName, list[m.ForeignKey]] = {}
        for _, fk in project.foreign_keys:
            self.fks_by_table.setdefault(fk.table, []).append(fk)
        know_external(self, project.external)  # external objects: schemac.external_names

    def error(
        self, code: str, message: str, loc: SourceLocation | None, hint: str | None = None
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def add(self, kind: str, key: str, unit: int, obj: Any, loc: SourceLocation | None) -> Node:
        if key in self.nodes:
            if kind not in ("role", "extension", "policy"):
                # Relations, types, routines and indexes: check_names reports these clashes.
                return self.nodes[key]
            first = self.nodes[key].loc
            where = f" (first at line {first.line} of {first.path.name})" if first else ""
            self.error(
                "E303",
                f"{kind} {key_label(key)} is declared twice{where}",
                loc,
                hint="a policy named like the tenant policy replaces nothing: rename it"
                if kind == "policy"
                else "remove one of them",
            )
            return self.nodes[key]
        node = Node(key, kind, unit, obj, loc, len(self.nodes))
        self.nodes[key] = node
        return node

    # -- graph -------------------------------------------------------------------------------

    def build_nodes(self) -> None:
        for kind, key, unit, obj in node_sources(self.p):
            node_key = self.add(kind, key, unit, obj, obj.loc).key
            for namespace in kinds.BY_NAME[kind].namespaces:
                self.keys[namespace][obj.qname] = node_key

    def sql_dependencies(self, *texts: str | None) -> set[str]:
        """Declared objects that these expressions name, schema-qualified, in their parse trees."""
        found: set[str] = set()
        for text in texts:
            if text and "." in text:  # most defaults and checks name nothing qualified
                found |= self.reference_keys(expression_references(text))
        return found

    def statement_dependencies(self, text: str | None) -> set[str]:
        """The same for whole statements: a view's query, a SQL-language body."""
        if not text or "." not in text:
            return set()
        return self.reference_keys(statement_references(text))

    def reference_keys(self, references: frozenset[Reference]) -> set[str]:
        found: set[str] = set()
        for ref in references:
            if ref.schema is None or ref.schema not in self.schemas:
                continue
            qname = m.QName(ref.schema, ref.name)
            table = {
                "relation": self.relation_keys,
                "function": self.function_keys,
                "type": self.type_keys,
            }[ref.kind]
            key = table.get(qname)
            if key is not None:
                found.add(key)
        return found

    def type_dependency(self, type_text: str) -> frozenset[str]:
        # The same few type spellings recur in every table: each is worked out once.
        found = self._type_dependencies.get(type_text)
        if found is None:
            found = self._type_dependencies[type_text] = frozenset(self._type_keys(type_text))
        return found

    def _type_keys(self, type_text: str) -> set[str]:
        qualified = qualified_type(type_text)
        if qualified is not None:
            key = self.type_keys.get(qualified)
            return {key} if key else set()
        # A type an extension brings (citext, ltree, ...) needs that extension first.
        base = base_type_name(type_text)
        return {
            node_key("extension", ext)
            for ext in self.extensions
            if base in EXTENSION_TYPES.get(ext, frozenset())
        }

    def role_dependency(self, role: str) -> set[str]:
        return {node_key("role", role)} if role in self.roles else set()

    def grant_dependencies(self, grants: Iterable[m.Grant]) -> set[str]:
        deps: set[str] = set()
        for grant in grants:
            deps |= self.role_dependency(grant.role)
        return deps

    def link(self) -> None:
        for node in self.nodes.values():
            schema_name = _schema_of(node.obj)
            if (
                schema_name
                and node.kind != "schema"
                and node_key("schema", schema_name) in self.nodes
            ):
                node.deps.add(node_key("schema", schema_name))
            edges = kinds.BY_NAME[node.kind].edges
            if edges is not None:
                node.deps |= edges(self, node.obj)
            node.deps.discard(node.key)

    def any_key(self, qname: m.QName) -> str | None:
        return (
            self.relation_keys.get(qname)
            or self.function_keys.get(qname)
            or self.type_keys.get(qname)
        )

    def order(self) -> list[Node]:
        """Topological order; ties go to the earlier unit, then the earlier phase, then declaration order."""
        indegree = {key: 0 for key in self.nodes}
        dependents: dict[str, list[str]] = {key: [] for key in self.nodes}
        for node in self.nodes.values():
            for dep in node.deps:
                if dep in self.nodes:
                    indegree[node.key] += 1
                    dependents[dep].append(node.key)
        ready = [self.priority(n) for n in self.nodes.values() if indegree[n.key] == 0]
        heapq.heapify(ready)
        ordered: list[Node] = []
        while ready:
            *_, key = heapq.heappop(ready)
            node = self.nodes[key]
            node.unit = max(
                [node.home_unit, *(self.nodes[d].unit for d in node.deps if d in self.nodes)]
            )
            ordered.append(node)
            for dependent in dependents[key]:
                indegree[dependent] -= 1
                if indegree[dependent] == 0:
                    heapq.heappush(ready, self.priority(self.nodes[dependent]))
        if len(ordered) < len(self.nodes):
            self.report_cycle({k for k, d in indegree.items() if d > 0})
        return ordered

    def priority(self, node: Node) -> tuple[int, int, int, str]:
        return (node.home_unit, _PHASE[node.kind], node.declared, node.key)

    def report_cycle(self, stuck: set[str]) -> None:
        start = min(stuck, key=lambda k: self.nodes[k].declared)
        path = [start]
        seen = {start: 0}
        current = start
        while True:
            nxt = min(
                (d for d in self.nodes[current].deps if d in stuck),
                key=lambda k: self.nodes[k].declared,
            )
            if nxt in seen:
                cycle = [*path[seen[nxt] :], nxt]
                break
            seen[nxt] = len(path)
            path.append(nxt)
            current = nxt
        shown = " --> ".join(key_label(k) for k in cycle)
        self.error(
            "E401",
            f"dependency cycle: {shown}",
            self.nodes[cycle[0]].loc,
            hint="break the cycle: move a reference into a separate object or drop one dependency",
        )

    # -- checks ------------------------------------------------------------------------------

    def check(self) -> None:
        check_names(self)
        check_types(self)
        check_grants(self)
        for kind in kinds.KINDS:
            if kind.check is not None:
                kind.check(self)

    def check_role(self, role: str, loc: SourceLocation | None) -> None:
        if role in self.roles or role in BUILTIN_ROLES or role.startswith("pg_"):
            return
        self.error(
            "E320",
            f"unknown role '{role}'",
            loc,
            hint=did_you_mean(role, self.roles) or "declare it under roles:",
        )

    def relation_columns(self, qname: m.QName) -> list[str] | None:
        table = self.tables.get(qname)
        if table:
            return [c.name for c in table.columns]
        view = self.views.get(qname)
        if view and view.columns:
            return list(view.columns)
        root = root_table(self, qname)  # a partition has its partitioned table's columns
        if root is not None:
            return [c.name for c in root.columns]
        return None

    def check_columns(
        self, table: m.QName, columns: Iterable[str], loc: SourceLocation | None, what: str
    ) -> None:
        known = self.relation_columns(table)
        if known is None:
            return
        for col in columns:
            if col not in known:
                self.error(
                    "E330",
                    f"{what}: {table} has no column '{col}'",
                    loc,
                    hint=did_you_mean(col, known),
                )

    def unique_keys(self, table: m.QName) -> set[frozenset[str]]:
        """Column sets PostgreSQL accepts as a referenced key or an ON CONFLICT target."""
        if self._unique_keys is None:
            keys: dict[m.QName, set[frozenset[str]]] = {}
            for t in self.tables.values():  # external tables' keys too
                keys[t.qname] = {
                    frozenset(c.columns)
                    for c in t.constraints
                    if c.kind in ("primary_key", "unique") and not c.deferrable
                }
            for _, ix in self.p.indexes:
                if ix.unique and not ix.where and all(e.column for e in ix.elements):
                    keys.setdefault(ix.table, set()).add(
                        frozenset(e.column or "" for e in ix.elements)
                    )
            self._unique_keys = keys
        return self._unique_keys.get(table, set())


def _schema_of(obj: Any) -> str | None:
    for attr in ("qname", "table"):
        value = getattr(obj, attr, None)
        if isinstance(value, m.QName):
            return value.schema
    return None


def node_sources(p: m.Project) -> Iterator[tuple[str, str, int, Any]]:
    """(kind, key, unit, object) of every object that becomes a node, in numbering order."""
    for kind in _NODE_KINDS:
        assert kind.nodes is not None and kind.field is not None
        for u, obj in p.of(kind.field):
            # Project-wide objects come before every schema, whichever file declares them.
            unit = PROJECT_WIDE_UNIT if kind.project_wide else u
            for node_kind, key in kind.nodes(obj):
                yield node_kind, key, unit, obj


def analyse(project: m.Project) -> Analysis:
    analyser = Analyser(project)
    analyser.build_nodes()
    analyser.link()
    analyser.check()
    ordered = analyser.order()
    return Analysis(ordered, analyser.diagnostics)


__all__ = ["Analyser", "Analysis", "NameClaims", "Node", "analyse", "node_sources"]
