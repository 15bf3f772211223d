"""The `external:` section of an import limited by `--schema`: what the imported schemas
reference in the schemas left out (docs/yaml-format.md, External objects).

Declared external: the tables their foreign keys reference (with the referenced columns), the
types of their columns, the functions their policies, defaults and checks call, the schemas
their extensions live in, and the triggers on those tables that call an imported function
(these are the project's own, declared under the external table).

Roles belong to the server, not to a schema: a role the imported objects name (a grantee, a
policy role, an owner) is external when the YAML could not create it as it is (a superuser, a
replication role, a role with settings or a member of the importing role: the server's own,
such as postgres or a platform's admin), and in an import limited by `--schema`, where the
database is a platform the imported schemas live in (anon, authenticated), every one is.
"""

from __future__ import annotations

from typing import Any

from schemac import model as m
from schemac.importer.context import Context
from schemac.importer.policies import triggers_of
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.sql.references import expression_references


class _Section:
    def __init__(self, ctx: Context, imported: set[str]) -> None:
        self.ctx = ctx
        self.imported = imported
        self.schemas: dict[str, dict[str, dict[str, Any]]] = {}

    def outside(self, schema: str | None) -> bool:
        return schema is not None and schema not in self.imported and schema != "pg_catalog"

    def entry(self, schema: str, kind: str) -> dict[str, Any]:
        return self.schemas.setdefault(schema, {}).setdefault(kind, {})

    def table(self, qname: m.QName, columns: tuple[str, ...]) -> None:
        table: m.Table | None = self.ctx.of("table").get(qname.label)
        if table is None:
            self.ctx.notes.lost("table", qname.label, "external declaration", "not a table")
            return
        item = self.entry(qname.schema, "tables").setdefault(qname.name, {"columns": {}})
        keys = {c.columns: c.kind for c in table.constraints if c.kind in ("primary_key", "unique")}
        for name in columns:
            column = table.column(name)
            if column is None:
                continue
            spec: dict[str, Any] = {"type": self.ctx.type(column.type, qname.schema)}
            kind = keys.get((name,))
            if kind is not None:
                spec[kind] = True
            elif len(columns) > 1:
                self.ctx.notes.lost(
                    "table",
                    qname.label,
                    f"key ({', '.join(columns)})",
                    "an external key is one column",
                )
            item["columns"][name] = spec

    def type(self, type_text: str) -> None:
        try:
            parsed = parse_type_name(type_text)
        except SqlSyntaxError:
            return
        if not self.outside(parsed.schema) or parsed.schema is None:
            return
        qname = m.QName(parsed.schema, parsed.name)
        enum: m.Enum | None = self.ctx.of("enum").get(qname.label)
        domain: m.Domain | None = self.ctx.of("domain").get(qname.label)
        spec: dict[str, Any] = {}
        if enum is not None:
            spec["enum"] = list(enum.values)
        elif domain is not None:
            spec["like"] = self.ctx.type(domain.type, qname.schema)
        else:
            self.ctx.notes.lost("type", qname.label, "stub", "create it in external.shadow_setup")
        self.entry(qname.schema, "types")[qname.name] = spec

    def calls(self, *texts: str | None) -> None:
        for text in texts:
            if not text:
                continue
            try:
                references = expression_references(text)
            except SqlSyntaxError:
                continue
            for ref in references:
                if ref.kind == "function" and self.outside(ref.schema):
                    self.function(m.QName(str(ref.schema), ref.name))

    def function(self, qname: m.QName) -> None:
        found = [f for f in self.ctx.of("function").values() if f.qname == qname]
        if len(found) != 1:
            if len(found) > 1:
                self.ctx.notes.lost("function", qname.label, "external declaration", "overloaded")
            return
        routine: m.Function = found[0]
        spec: dict[str, Any] = {}
        if routine.arguments:
            spec["arguments"] = [self.ctx.type(a.type, qname.schema) for a in routine.arguments]
        returns = routine.returns or "void"
        if returns.startswith("SETOF "):
            spec["returns"] = "setof " + self.ctx.type(returns[6:], qname.schema)
        else:
            spec["returns"] = self.ctx.type(returns, qname.schema)
        if routine.volatility and routine.volatility != "volatile":
            spec["volatility"] = routine.volatility
        self.entry(qname.schema, "functions")[qname.name] = spec


def external_section(ctx: Context, imported: set[str], limited: bool) -> dict[str, Any] | None:
    """The section, or None when every schema was imported (nothing is external then)."""
    if not limited:
        return None
    section = _Section(ctx, imported)
    for fk in ctx.of("foreign key").values():
        if fk.table.schema in imported and section.outside(fk.ref_table.schema):
            section.table(fk.ref_table, fk.ref_columns)
    for table in ctx.of("table").values():
        if table.qname.schema in imported:
            for column in table.columns:
                section.type(column.type)
                section.calls(column.default, column.generated)
            section.calls(*(c.expression for c in table.constraints))
    for policy in ctx.of("policy").values():
        if policy.table.schema in imported:
            section.calls(policy.using, policy.with_check)
    triggers: dict[m.QName, list[m.Trigger]] = {}
    for trigger in ctx.of("trigger").values():
        if section.outside(trigger.table.schema) and trigger.function.schema in imported:
            triggers.setdefault(trigger.table, []).append(trigger)
    for qname, listed in sorted(triggers.items(), key=lambda item: str(item[0])):
        section.table(qname, ())
        tables = section.entry(qname.schema, "tables")
        tables[qname.name]["triggers"] = triggers_of(ctx, listed, qname.schema)
    for extension in ctx.of("extension").values():
        if section.outside(extension.schema) and extension.schema != "public":
            section.schemas.setdefault(extension.schema, {})
    if not section.schemas:
        return None
    return {
        "schemas": {
            name: {kind: dict(sorted(items.items())) for kind, items in sorted(kinds.items())}
            or None
            for name, kinds in sorted(section.schemas.items())
        }
    }


def role_is_external(ctx: Context, found: dict[str, Any], limited: bool) -> bool:
    """Whether a role the imported objects name is written under ``external: roles``."""
    if limited:
        return True
    if found["superuser"] or found["replication"] or found["settings"]:
        return True
    return ctx.source.current_user in found["member_of"]
