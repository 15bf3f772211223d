"""Stage 4, analyse: semantic checks, the dependency graph, and the order objects are created in.

Dependencies come from the model (a foreign key needs both tables, a trigger its function) and
from SQL text: a qualified name of a declared object inside a default, check, view query or
SQL-language function body is a dependency. Foreign keys are separate nodes, so two tables that
reference each other are created first and constrained after: that cycle resolves itself.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from schemac import model as m
from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.external_names import know_external
from schemac.naming import too_long
from schemac.sql.parse import SqlSyntaxError, parse_type_name, partition_columns
from schemac.sql.references import Reference, expression_references, statement_references
from schemac.types import EXTENSION_TYPES, base_type_name, is_builtin, known_type_names

PROJECT_WIDE_UNIT = -1
PRIVILEGES_BY_KIND = {
    "schema": frozenset({"all", "usage", "create"}),
    "table": frozenset(m.TABLE_PRIVILEGES),
    "sequence": frozenset({"all", "usage", "select", "update"}),
    "routine": frozenset({"all", "execute"}),
}
BUILTIN_ROLES = frozenset({"public", "current_user", "current_role", "session_user"})

# Within one unit, objects of an earlier phase come first when the graph leaves a choice.
PHASES = (
    "role",
    "extension",
    "schema",
    "enum",
    "domain",
    "sequence",
    "function",
    "table",
    "partition",
    "seqowner",
    "view",
    "index",
    "fk",
    "trigger",
    "policy",
)


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


class _Analyser:
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
        self.relation_keys: dict[m.QName, str] = {}
        self.type_keys: dict[m.QName, str] = {}
        self.function_keys: dict[m.QName, str] = {}
        self.unique_index_keys: dict[m.QName, list[str]] = {}
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
                f"{kind} {key.split(':', 1)[1]} is declared twice{where}",
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
            if kind in ("enum", "domain"):
                self.type_keys[obj.qname] = node_key
            elif kind in ("sequence", "partition"):
                self.relation_keys[obj.qname] = node_key
            elif kind == "function":
                self.function_keys[obj.qname] = node_key
            elif kind in ("table", "view"):
                self.relation_keys[obj.qname] = node_key
                self.type_keys[obj.qname] = node_key
            elif kind == "index" and obj.unique:
                self.unique_index_keys.setdefault(obj.table, []).append(node_key)

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
        qualified = _qualified_type(type_text)
        if qualified is not None:
            key = self.type_keys.get(qualified)
            return {key} if key else set()
        # A type an extension brings (citext, ltree, ...) needs that extension first.
        base = base_type_name(type_text)
        return {
            f"extension:{ext}"
            for ext in self.extensions
            if base in EXTENSION_TYPES.get(ext, frozenset())
        }

    def role_dependency(self, role: str) -> set[str]:
        return {f"role:{role}"} if role in self.roles else set()

    def grant_dependencies(self, grants: Iterable[m.Grant]) -> set[str]:
        deps: set[str] = set()
        for grant in grants:
            deps |= self.role_dependency(grant.role)
        return deps

    def link(self) -> None:
        for node in self.nodes.values():
            obj = node.obj
            deps = node.deps
            schema_name = _schema_of(obj)
            if schema_name and node.kind != "schema" and f"schema:{schema_name}" in self.nodes:
                deps.add(f"schema:{schema_name}")
            if node.kind == "role":
                for r in obj.member_of:
                    deps |= self.role_dependency(r)
            elif node.kind == "extension":
                if obj.schema and f"schema:{obj.schema}" in self.nodes:
                    deps.add(f"schema:{obj.schema}")
            elif node.kind == "schema":
                if obj.owner:
                    deps |= self.role_dependency(obj.owner)
                deps |= self.grant_dependencies(obj.grants)
            elif node.kind == "domain":
                deps |= self.type_dependency(obj.type)
                deps |= self.sql_dependencies(obj.default, *(c for _, c in obj.checks))
            elif node.kind == "sequence":
                deps |= self.grant_dependencies(obj.grants)
            elif node.kind == "seqowner":
                deps.add(f"relation:{obj.qname}")
                owner = self.relation_keys.get(obj.owned_by[0])
                if owner:
                    deps.add(owner)
            elif node.kind == "function":
                for arg in obj.arguments:
                    deps |= self.type_dependency(arg.type) | self.sql_dependencies(arg.default)
                if obj.returns and not obj.returns.startswith("TABLE"):
                    deps |= self.type_dependency(obj.returns.removeprefix("SETOF "))
                for _, column_type in obj.returns_columns:
                    deps |= self.type_dependency(column_type)
                # SQL bodies are checked when created; PL/pgSQL bodies only when run.
                if obj.language == "sql":
                    deps |= self.statement_dependencies(obj.body)
                deps |= {key for d in obj.depends_on if (key := self.any_key(d))}
                deps |= self.grant_dependencies(obj.grants)
            elif node.kind == "table":
                for col in obj.columns:
                    deps |= self.type_dependency(col.type)
                    if col.default or col.generated:
                        deps |= self.sql_dependencies(col.default, col.generated)
                for con in obj.constraints:
                    deps |= self.sql_dependencies(
                        con.expression, con.where, *(e for e, _ in con.elements)
                    )
                deps |= self.grant_dependencies(obj.grants)
            elif node.kind == "partition":
                parent = self.relation_keys.get(obj.parent)
                if parent:
                    deps.add(parent)
            elif node.kind == "view":
                deps |= self.statement_dependencies(obj.query)
                deps |= {key for d in obj.depends_on if (key := self.any_key(d))}
                deps |= self.grant_dependencies(obj.grants)
            elif node.kind == "index":
                target = self.relation_keys.get(obj.table)
                if target:
                    deps.add(target)
                deps |= self.sql_dependencies(obj.where, *(e.expression for e in obj.elements))
            elif node.kind == "fk":
                for qname in (obj.table, obj.ref_table):
                    if qname in self.relation_keys:
                        deps.add(self.relation_keys[qname])
                # The referenced key may be a unique index declared separately.
                deps.update(self.unique_index_keys.get(obj.ref_table, ()))
            elif node.kind == "trigger":
                if obj.table in self.relation_keys:
                    deps.add(self.relation_keys[obj.table])
                if obj.function in self.function_keys:
                    deps.add(self.function_keys[obj.function])
                deps |= self.sql_dependencies(obj.when)
            elif node.kind == "policy":
                if obj.table in self.relation_keys:
                    deps.add(self.relation_keys[obj.table])
                for role in obj.roles:
                    deps |= self.role_dependency(role)
                deps |= self.sql_dependencies(obj.using, obj.with_check)
            deps.discard(node.key)

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
        return (node.home_unit, PHASES.index(node.kind), node.declared, node.key)

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
        shown = " --> ".join(_display(k) for k in cycle)
        self.error(
            "E401",
            f"dependency cycle: {shown}",
            self.nodes[cycle[0]].loc,
            hint="break the cycle: move a reference into a separate object or drop one dependency",
        )

    # -- checks ------------------------------------------------------------------------------

    def check(self) -> None:
        self.check_names()
        self.check_types()
        self.check_roles()
        self.check_tables()
        self.check_foreign_keys()
        self.check_indexes()
        self.check_triggers()
        self.check_views_and_functions()
        self.check_seeds()
        self.check_privileges()
        self.check_policies()

    def check_privileges(self) -> None:
        """GRANT accepts only the privileges that exist for the object's kind."""
        holders: list[tuple[str, Any]] = [
            *(("schema", s) for _, s in self.p.schemas),
            *(("table", t) for _, t in self.p.tables),
            *(("table", v) for _, v in self.p.views),
            *(("sequence", s) for _, s in self.p.sequences),
            *(("routine", f) for _, f in self.p.functions),
        ]
        for kind, holder in holders:
            allowed = PRIVILEGES_BY_KIND[kind]
            for grant in holder.grants:
                wrong = [p for p in grant.privileges if p not in allowed]
                if wrong:
                    self.error(
                        "E321",
                        f"{', '.join(wrong)} cannot be granted on a {kind} ({getattr(holder, 'qname', None) or holder.name})",
                        grant.loc or holder.loc,
                        hint=f"a {kind} takes: {', '.join(sorted(allowed))}",
                    )

    def check_policies(self) -> None:
        for _, policy in self.p.policies:
            if policy.command == "insert" and policy.using:
                self.error(
                    "E366",
                    f"policy '{policy.name}': an insert policy takes with_check only",
                    policy.loc,
                )
            if policy.command in ("select", "delete") and policy.with_check:
                self.error(
                    "E366",
                    f"policy '{policy.name}': a {policy.command} policy takes using only",
                    policy.loc,
                )

    def check_names(self) -> None:
        names: list[tuple[str, SourceLocation | None]] = []
        relations: dict[tuple[str, str], list[tuple[str, SourceLocation | None]]] = {}
        types: dict[tuple[str, str], list[tuple[str, SourceLocation | None]]] = {}

        def claim(
            space: dict[tuple[str, str], list[tuple[str, SourceLocation | None]]],
            schema: str,
            name: str,
            what: str,
            loc: SourceLocation | None,
        ) -> None:
            space.setdefault((schema, name), []).append((what, loc))

        for _, role in self.p.roles:
            names.append((role.name, role.loc))
        for _, schema in self.p.schemas:
            names.append((schema.name, schema.loc))
        for _, enum in self.p.enums:
            claim(types, enum.qname.schema, enum.qname.name, "enum", enum.loc)
            for value in enum.values:
                if too_long(value):
                    self.error(
                        "E304", f"enum value '{value[:20]}...' is longer than 63 bytes", enum.loc
                    )
        for _, dom in self.p.domains:
            claim(types, dom.qname.schema, dom.qname.name, "domain", dom.loc)
        for _, seq in self.p.sequences:
            claim(relations, seq.qname.schema, seq.qname.name, "sequence", seq.loc)
        for _, table in self.p.tables:
            claim(relations, table.qname.schema, table.qname.name, "table", table.loc)
            claim(types, table.qname.schema, table.qname.name, "table (its row type)", table.loc)
            for col in table.columns:
                names.append((col.name, col.loc))
            constraint_names: dict[str, SourceLocation | None] = {}
            for con in table.constraints:
                if con.name in constraint_names:
                    self.error(
                        "E303",
                        f"constraint name '{con.name}' is used twice on {table.qname}",
                        con.loc,
                        hint="give one of them a name:",
                    )
                constraint_names[con.name] = con.loc
                if con.kind in ("primary_key", "unique", "exclusion"):
                    claim(
                        relations,
                        table.qname.schema,
                        con.name,
                        f"index of constraint on {table.qname}",
                        con.loc,
                    )
                names.append((con.name, con.loc))
            for fk in self.fks_by_table.get(table.qname, ()):
                if fk.name in constraint_names:
                    self.error(
                        "E303",
                        f"constraint name '{fk.name}' is used twice on {table.qname}",
                        fk.loc,
                        hint="give the foreign key a name:",
                    )
                constraint_names[fk.name] = fk.loc
                names.append((fk.name, fk.loc))
        for _, part in self.p.partitions:
            claim(relations, part.qname.schema, part.qname.name, "partition", part.loc)
            claim(types, part.qname.schema, part.qname.name, "partition (its row type)", part.loc)
        for _, view in self.p.views:
            kind = "materialized view" if view.materialized else "view"
            claim(relations, view.qname.schema, view.qname.name, kind, view.loc)
            claim(types, view.qname.schema, view.qname.name, f"{kind} (its row type)", view.loc)
        for _, ix in self.p.indexes:
            claim(relations, ix.table.schema, ix.name, f"index on {ix.table}", ix.loc)
            names.append((ix.name, ix.loc))
        functions: dict[tuple[str, str], list[tuple[str, SourceLocation | None]]] = {}
        for _, fn in self.p.functions:
            claim(functions, fn.qname.schema, fn.qname.name, "routine", fn.loc)
        for _, trigger in self.p.triggers:
            names.append((trigger.name, trigger.loc))
        for _, policy in self.p.policies:
            names.append((policy.name, policy.loc))
        for space in (relations, types, functions):
            for (schema_name, name), claims in space.items():
                # A relation's row type clashes exactly when the relation does: report that once.
                if space is types and sum(1 for what, _ in claims if "row type" not in what) < 1:
                    continue
                if len(claims) > 1:
                    first_what, first_loc = claims[0]
                    for what, loc in claims[1:]:
                        where = (
                            f", line {first_loc.line} of {first_loc.path.name}" if first_loc else ""
                        )
                        self.error(
                            "E303",
                            f"the name {schema_name}.{name} of this {what} is already taken ({first_what}{where})",
                            loc,
                            hint="PostgreSQL keeps these names in one namespace per schema; rename one",
                        )
            for (_, name), claims in space.items():
                names.append((name, claims[0][1]))
        for name, loc in names:
            if too_long(name):
                self.error(
                    "E304",
                    f"identifier '{name}' is {len(name.encode())} bytes; PostgreSQL allows 63",
                    loc,
                    hint="shorten it (PostgreSQL would silently truncate it)",
                )

    def check_types(self) -> None:
        known = known_type_names(self.extensions)
        declared = set(self.type_keys)

        def check(type_text: str, loc: SourceLocation | None, schema: str) -> None:
            if _type_error(type_text):
                return  # not one type name: reported at its position (E310) already
            qname = _qualified_type(type_text)
            if qname is not None:
                if qname.schema in self.schemas and qname not in declared:
                    candidates = [q.name for q in declared if q.schema == qname.schema]
                    self.error(
                        "E310",
                        f"unknown type {qname}",
                        loc,
                        hint=did_you_mean(qname.name, candidates),
                    )
                return
            base = base_type_name(type_text)
            if base in ("setof", "table") or type_text.startswith(("TABLE", "SETOF")):
                return
            if not is_builtin(base, self.extensions):
                hint = did_you_mean(base, known | {q.name for q in declared if q.schema == schema})
                if hint is None and base == "citext":
                    hint = "declare the extension: extensions: {citext: {}}"
                self.error("E310", f"unknown type '{base}'", loc, hint=hint)

        for _, table in self.p.tables:
            for col in table.columns:
                check(col.type, col.loc, table.qname.schema)
        for _, dom in self.p.domains:
            check(dom.type, dom.loc, dom.qname.schema)
        for _, fn in self.p.functions:
            for arg in fn.arguments:
                check(arg.type, fn.loc, fn.qname.schema)
            if fn.returns and not fn.returns.startswith("TABLE"):
                check(fn.returns.removeprefix("SETOF "), fn.loc, fn.qname.schema)
            for _, column_type in fn.returns_columns:
                check(column_type, fn.loc, fn.qname.schema)

    def check_roles(self) -> None:
        def check(role: str, loc: SourceLocation | None) -> None:
            if role in self.roles or role in BUILTIN_ROLES or role.startswith("pg_"):
                return
            self.error(
                "E320",
                f"unknown role '{role}'",
                loc,
                hint=did_you_mean(role, self.roles) or "declare it under roles:",
            )

        for _, schema in self.p.schemas:
            if schema.owner:
                check(schema.owner, schema.loc)
        for _, role in self.p.roles:
            for other in role.member_of:
                check(other, role.loc)
        grant_holders: Iterable[tuple[Any, SourceLocation | None]] = [
            *((s, s.loc) for _, s in self.p.schemas),
            *((t, t.loc) for _, t in self.p.tables),
            *((v, v.loc) for _, v in self.p.views),
            *((f, f.loc) for _, f in self.p.functions),
            *((s, s.loc) for _, s in self.p.sequences),
        ]
        for holder, loc in grant_holders:
            for grant in holder.grants:
                check(grant.role, grant.loc or loc)
        for _, policy in self.p.policies:
            for policy_role in policy.roles:
                check(policy_role, policy.loc)

    def relation_columns(self, qname: m.QName) -> list[str] | None:
        table = self.tables.get(qname)
        if table:
            return [c.name for c in table.columns]
        view = self.views.get(qname)
        if view and view.columns:
            return list(view.columns)
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

    def check_tables(self) -> None:
        for _, ext in self.p.extensions:
            if (
                ext.schema
                and ext.schema not in self.schemas
                and ext.schema not in ("public", "pg_catalog")
            ):
                self.error(
                    "E316",
                    f"extension {ext.name} goes into unknown schema '{ext.schema}'",
                    ext.loc,
                    hint=did_you_mean(ext.schema, self.schemas)
                    or "declare that schema, or use public",
                )
        for _, table in self.p.tables:
            if table.partition_by:
                keys = partition_columns(table.partition_by)
                self.check_columns(table.qname, keys, table.loc, "partition_by")
            for con in table.constraints:
                self.check_columns(
                    table.qname, con.columns, con.loc, f"{con.kind.replace('_', ' ')} '{con.name}'"
                )
            for col in table.columns:
                if col.identity and base_type_name(col.type) not in (
                    "smallint",
                    "integer",
                    "int",
                    "bigint",
                    "int2",
                    "int4",
                    "int8",
                ):
                    self.error(
                        "E331",
                        f"identity column '{col.name}' must be smallint, integer or bigint",
                        col.loc,
                    )
        for _, seq in self.p.sequences:
            if seq.owned_by:
                owner, column = seq.owned_by
                if owner not in self.tables:
                    self.error("E332", f"owned_by: unknown table {owner}", seq.loc)
                else:
                    self.check_columns(owner, [column], seq.loc, "owned_by")
        for _, part in self.p.partitions:
            parent = self.tables[part.parent]
            strategy = (parent.partition_by or "").split(" ")[0]
            expected = {
                "RANGE": "FOR VALUES FROM",
                "LIST": "FOR VALUES IN",
                "HASH": "FOR VALUES WITH",
            }.get(strategy)
            if part.bound != "DEFAULT" and expected and not part.bound.startswith(expected):
                self.error(
                    "E333",
                    f"partition {part.qname} does not fit the {strategy.lower()} partitioning of {part.parent}",
                    part.loc,
                    hint={
                        "RANGE": "use from/to",
                        "LIST": "use in",
                        "HASH": "use modulus/remainder",
                    }[strategy],
                )
            if strategy == "HASH" and part.bound == "DEFAULT":
                self.error(
                    "E333", "a hash-partitioned table cannot have a default partition", part.loc
                )

    def check_foreign_keys(self) -> None:
        for _, fk in self.p.foreign_keys:
            self.check_columns(fk.table, fk.columns, fk.loc, f"foreign key '{fk.name}'")
            target = self.tables.get(fk.ref_table)
            if target is None:
                candidates = [str(q) for q in self.tables]
                self.error(
                    "E340",
                    f"foreign key '{fk.name}' references unknown table {fk.ref_table}",
                    fk.loc,
                    hint=did_you_mean(str(fk.ref_table), candidates),
                )
                continue
            self.check_columns(fk.ref_table, fk.ref_columns, fk.loc, f"foreign key '{fk.name}'")
            if fk.ref_columns and len(fk.ref_columns) != len(fk.columns):
                self.error(
                    "E341",
                    f"foreign key '{fk.name}' has {len(fk.columns)} column(s) but references {len(fk.ref_columns)}",
                    fk.loc,
                )
                continue
            if fk.ref_columns and frozenset(fk.ref_columns) not in self.unique_keys(fk.ref_table):
                self.error(
                    "E342",
                    f"foreign key '{fk.name}': ({', '.join(fk.ref_columns)}) of {fk.ref_table} is not a primary key or unique",
                    fk.loc,
                    hint="PostgreSQL requires a unique constraint on the referenced columns",
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

    def check_indexes(self) -> None:
        for _, ix in self.p.indexes:
            if (
                ix.table not in self.tables
                and ix.table in self.views
                and not self.views[ix.table].materialized
            ):
                self.error(
                    "E350",
                    f"index '{ix.name}' is on a view; only tables and materialized views have indexes",
                    ix.loc,
                )
                continue
            self.check_columns(
                ix.table, [e.column for e in ix.elements if e.column], ix.loc, f"index '{ix.name}'"
            )
            self.check_columns(ix.table, ix.include, ix.loc, f"index '{ix.name}' include")
            table = self.tables.get(ix.table)
            if ix.concurrently and table is not None and table.partition_by:
                self.error(
                    "E351",
                    f"index '{ix.name}': PostgreSQL cannot build an index on a partitioned table concurrently",
                    ix.loc,
                    hint="drop concurrently: (or index each partition)",
                )
        for node in self.nodes.values():
            if node.kind != "fk":
                continue
            for dep in sorted(node.deps):
                needed = self.nodes.get(dep)
                if needed is not None and needed.kind == "index" and needed.obj.concurrently:
                    self.error(
                        "E352",
                        f"foreign key '{node.obj.name}' needs the unique index '{needed.obj.name}', "
                        "which is built concurrently in a migration of its own, after it",
                        node.loc,
                        hint="declare that key as a unique constraint, or drop concurrently:",
                    )

    def check_triggers(self) -> None:
        for _, tr in self.p.triggers:
            self.check_columns(tr.table, tr.update_of, tr.loc, f"trigger '{tr.name}' update_of")
            if tr.update_of and "update" not in tr.events:
                self.error("E360", f"trigger '{tr.name}' has update_of but no update event", tr.loc)
            if "truncate" in tr.events and tr.for_each == "row":
                self.error(
                    "E361",
                    f"trigger '{tr.name}': truncate triggers fire for each statement only",
                    tr.loc,
                )
            if tr.timing == "instead_of" and tr.table in self.tables:
                self.error(
                    "E362", f"trigger '{tr.name}': instead_of triggers are for views", tr.loc
                )
            if (tr.old_table or tr.new_table) and tr.timing != "after":
                self.error(
                    "E363",
                    f"trigger '{tr.name}': transition tables (referencing) need timing: after",
                    tr.loc,
                )
            fn = self.functions.get(tr.function)
            if fn is None:
                if tr.function.schema in self.schemas or tr.function.schema == tr.table.schema:
                    self.error(
                        "E364",
                        f"trigger '{tr.name}' calls unknown function {tr.function}",
                        tr.loc,
                        hint=did_you_mean(
                            str(tr.function),
                            # only a function that returns trigger is worth suggesting
                            [str(q) for q, f in self.functions.items() if _returns_trigger(f)],
                        ),
                    )
            elif not _returns_trigger(fn):
                self.error(
                    "E365",
                    f"trigger '{tr.name}': function {tr.function} must return trigger",
                    tr.loc,
                )

    def check_views_and_functions(self) -> None:
        for _, view in self.p.views:
            for dep in view.depends_on:
                if self.any_key(dep) is None:
                    self.error(
                        "E370", f"view {view.qname} depends on unknown object {dep}", view.loc
                    )
        for _, fn in self.p.functions:
            for dep in fn.depends_on:
                if self.any_key(dep) is None:
                    self.error(
                        "E370", f"routine {fn.qname} depends on unknown object {dep}", fn.loc
                    )
            if not fn.is_procedure and fn.returns is None:
                self.error("E371", f"function {fn.qname} needs returns:", fn.loc)

    def check_seeds(self) -> None:
        for _, seed in self.p.seeds:
            named_at = dict(seed.column_locs)
            for named in dict.fromkeys([*seed.key, *seed.columns]):
                self.check_columns(seed.table, [named], named_at.get(named, seed.loc), "seed")
            table = self.tables.get(seed.table)
            for column in table.columns if table else ():
                if column.generated and column.name in seed.columns:
                    self.error(
                        "E382",
                        f"seed of {seed.table} sets '{column.name}', a generated column",
                        seed.loc,
                        hint="PostgreSQL computes it: leave it out of the rows",
                    )
            if frozenset(seed.key) not in self.unique_keys(seed.table):
                self.error(
                    "E380",
                    f"seed key ({', '.join(seed.key)}) of {seed.table} is not its primary key or a unique constraint",
                    seed.loc,
                    hint="upserts need ON CONFLICT on a unique key",
                )
            for i, row in enumerate(seed.rows):
                values = dict(zip(seed.columns, row, strict=True))
                for col in seed.key:
                    if values.get(col, m.MISSING) is m.MISSING:
                        self.error(
                            "E381",
                            f"seed row {i + 1} of {seed.table} has no value for key column '{col}'",
                            seed.loc,
                        )


def _schema_of(obj: Any) -> str | None:
    for attr in ("qname", "table"):
        value = getattr(obj, attr, None)
        if isinstance(value, m.QName):
            return value.schema
    return None


def _display(key: str) -> str:
    return key.split(":", 1)[1]


def node_sources(p: m.Project) -> Iterator[tuple[str, str, int, Any]]:
    """(kind, key, unit, object) of every object that becomes a node, in numbering order."""
    # Project-wide objects come before every schema, whichever file declares them.
    for _, role in p.roles:
        yield "role", f"role:{role.name}", PROJECT_WIDE_UNIT, role
    for _, ext in p.extensions:
        yield "extension", f"extension:{ext.name}", PROJECT_WIDE_UNIT, ext
    for u, schema in p.schemas:
        yield "schema", f"schema:{schema.name}", u, schema
    for u, enum in p.enums:
        yield "enum", f"type:{enum.qname}", u, enum
    for u, dom in p.domains:
        yield "domain", f"type:{dom.qname}", u, dom
    for u, seq in p.sequences:
        yield "sequence", f"relation:{seq.qname}", u, seq
        if seq.owned_by:
            yield "seqowner", f"seqowner:{seq.qname}", u, seq
    for u, fn in p.functions:
        yield "function", f"function:{fn.qname}", u, fn
    for u, table in p.tables:
        yield "table", f"relation:{table.qname}", u, table
    for u, part in p.partitions:
        yield "partition", f"relation:{part.qname}", u, part
    for u, view in p.views:
        yield "view", f"relation:{view.qname}", u, view
    for u, ix in p.indexes:
        yield "index", f"index:{ix.qname}", u, ix
    for u, fk in p.foreign_keys:
        yield "fk", f"fk:{fk.table}.{fk.name}", u, fk
    for u, trigger in p.triggers:
        yield "trigger", f"trigger:{trigger.table}.{trigger.name}", u, trigger
    for u, policy in p.policies:
        yield "policy", f"policy:{policy.table}.{policy.name}", u, policy


def analyse(project: m.Project) -> Analysis:
    analyser = _Analyser(project)
    analyser.build_nodes()
    analyser.link()
    analyser.check()
    ordered = analyser.order()
    return Analysis(ordered, analyser.diagnostics)


def _qualified_type(type_text: str) -> m.QName | None:
    """The schema and name of a schema-qualified type (`"app"."mood"[]`), else None."""
    try:
        parsed = parse_type_name(type_text)
    except SqlSyntaxError:
        return None
    return m.QName(parsed.schema, parsed.name) if parsed.schema is not None else None


def _type_error(type_text: str) -> bool:
    try:
        parse_type_name(type_text.removeprefix("SETOF "))
    except SqlSyntaxError:
        return True
    return False


def _returns_trigger(function: m.Function) -> bool:
    return (function.returns or "").lower() == "trigger"
