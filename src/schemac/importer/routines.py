"""Functions, procedures, views, enums, domains and sequences as schemac YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pglast import ast, parse_sql
from pglast.visitors import Visitor

from schemac import model as m
from schemac.catalog.queries import grants_of
from schemac.importer.context import Context
from schemac.importer.default_privileges import public_execute_by_default
from schemac.importer.extras import report_extras
from schemac.importer.indexes import index_yaml
from schemac.importer.names import bare_expression, reference_part, sql_value
from schemac.importer.yaml_writer import Block, SpacedBlock
from schemac.naming import file_safe

if TYPE_CHECKING:
    from schemac.importer.units import SchemaUnit

# A body over this many lines goes to a .sql file beside the YAML (`body_file:`).
BODY_FILE_LINES = 8
_VOLATILE = "volatile"
_TYPE_ACL = (("(owner)", "USAGE", False), ("PUBLIC", "USAGE", False))
_SEQUENCE_LIMITS = {
    "smallint": (1, 32767),
    "integer": (1, 2147483647),
    "bigint": (1, 9223372036854775807),
}


@dataclass
class BodyFiles:
    """The .sql files a unit's functions keep their bodies in: path (relative to the YAML) -> text."""

    folder: str
    files: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, body: str) -> str:
        path = f"{self.folder}/{file_safe(name)}.sql"
        number = 2
        while path in self.files:
            path = f"{self.folder}/{file_safe(name)}_{number}.sql"
            number += 1
        self.files[path] = body
        return path


def routines_sections(ctx: Context, unit: SchemaUnit) -> dict[str, SpacedBlock]:
    """The unit's `functions:` and `procedures:` (`Kind.import_unit` of kinds/routines.py)."""
    functions, procedures = SpacedBlock(), SpacedBlock()
    for kind, target in (("function", functions), ("procedure", procedures)):
        found = sorted(unit.content.get(kind, {}).items())
        names = [routine.qname.name for _, routine in found]
        for key, routine in found:
            if names.count(routine.qname.name) > 1:
                ctx.names.refused.append(
                    f"{kind} {key}: overloaded name (the YAML keys routines by name)"
                )
                continue
            target[routine.qname.name] = function_yaml(ctx, key, routine, unit.bodies)
    return {"functions": functions, "procedures": procedures}


def views_sections(ctx: Context, unit: SchemaUnit) -> dict[str, SpacedBlock]:
    """The unit's `views:` and `materialized_views:` (`Kind.import_unit` of kinds/views.py)."""
    views, materialized = SpacedBlock(), SpacedBlock()
    for view in sorted(unit.content.get("view", {}).values(), key=lambda v: v.qname.name):
        views[view.qname.name] = view_yaml(ctx, view, [])
        unit.depends_on |= _query_schemas(view.query)
    for view in sorted(
        unit.content.get("materialized view", {}).values(), key=lambda v: v.qname.name
    ):
        indexes = unit.by_table.get(view.qname.label, {}).get("index", [])
        materialized[view.qname.name] = view_yaml(ctx, view, indexes)
        unit.depends_on |= _query_schemas(view.query)
    return {"views": views, "materialized_views": materialized}


class _RangeVars(Visitor):
    """The schemas a view's query reads from."""

    def __init__(self) -> None:
        super().__init__()
        self.schemas: set[str] = set()

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        if node.schemaname:
            self.schemas.add(str(node.schemaname))


def _query_schemas(query: str) -> set[str]:
    visitor = _RangeVars()
    visitor(parse_sql(query))
    return visitor.schemas


def _default_cost(language: str) -> float:
    return 1.0 if language in ("c", "internal") else 100.0


def function_yaml(ctx: Context, key: str, routine: m.Function, bodies: BodyFiles) -> Block:
    """One function or procedure; ``key`` is its catalog name ``schema.name(types)``."""
    kind = "procedure" if routine.is_procedure else "function"
    schema = routine.qname.schema
    ctx.names.check(f"{kind} {key}", routine.qname.name)
    out = Block()
    if routine.comment is not None:
        out["comment"] = routine.comment
    out["language"] = routine.language
    arguments = [_argument(ctx, a, schema) for a in routine.arguments]
    if arguments:
        out["arguments"] = arguments
    if not routine.is_procedure:
        out["returns"] = _returns(ctx, routine, schema)
    returns_set = (routine.returns or "").startswith(("SETOF ", "TABLE("))
    if routine.volatility not in (None, _VOLATILE):
        out["volatility"] = routine.volatility
    if routine.strict:
        out["strict"] = True
    if routine.leakproof:
        out["leakproof"] = True
    if routine.security_definer:
        out["security"] = "definer"
    if routine.parallel not in (None, "unsafe"):
        out["parallel"] = routine.parallel
    if routine.cost is not None and routine.cost != _default_cost(routine.language):
        out["cost"] = int(routine.cost) if routine.cost.is_integer() else routine.cost
    default_rows = 1000.0 if returns_set else 0.0
    if routine.rows is not None and routine.rows != default_rows:
        out["rows"] = int(routine.rows) if routine.rows.is_integer() else routine.rows
    if routine.settings:
        out["set"] = dict(ctx.source.routine_settings.get(key, routine.settings))
    _body(ctx, kind, key, routine, bodies, out)
    grants = _routine_grants(ctx, kind, key, routine)
    if grants:
        out["grants"] = grants
    report_extras(
        ctx.source.catalog, kind, key, ctx.notes, ctx.source.current_user, frozenset({"acl"})
    )
    return out


def _argument(ctx: Context, argument: m.Argument, schema: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if argument.name:
        ctx.names.check("argument", argument.name)
        out["name"] = argument.name
    out["type"] = ctx.type(argument.type, schema)
    if argument.mode not in (None, "in"):
        out["mode"] = argument.mode
    if argument.default is not None:
        out["default"] = sql_value(argument.default)
    return out


def _returns(ctx: Context, routine: m.Function, schema: str) -> Any:
    if routine.returns_columns:
        return {"table": {name: ctx.type(t, schema) for name, t in routine.returns_columns}}
    text = routine.returns or "void"
    if text.startswith("SETOF "):
        return "setof " + ctx.type(text[len("SETOF ") :], schema)
    return ctx.type(text, schema)


def _body(
    ctx: Context, kind: str, key: str, routine: m.Function, bodies: BodyFiles, out: Block
) -> None:
    if key in ctx.source.standard_bodies:
        ctx.names.refused.append(
            f"{kind} {key}: a SQL-standard body (BEGIN ATOMIC or RETURN), which the YAML "
            "cannot declare yet"
        )
        return
    # Byte for byte: schemac stores a line break and then the body (body_leading_newline).
    body = routine.body.removeprefix("\n")
    if body.count("\n") > BODY_FILE_LINES:
        out["body_file"] = bodies.add(routine.qname.name, body)
    else:
        out["body"] = body
    if body == routine.body:
        out["body_leading_newline"] = False


def _routine_grants(ctx: Context, kind: str, key: str, routine: m.Function) -> dict[str, Any]:
    """EXECUTE belongs to PUBLIC by default, except for a definer routine under the project's
    ``definer_revoke_public``: PUBLIC is written only where it differs (schemac.privileges)."""
    grants = ctx.grants(kind, key, routine.grants)
    by_default = not (
        routine.security_definer and ctx.privileges.definer_revoke_public
    ) and public_execute_by_default(ctx, routine.qname.schema)
    public = "execute" in grants.get("public", [])
    if by_default and public:
        grants["public"].remove("execute")
        if not grants["public"]:
            del grants["public"]
    elif by_default:
        grants = {"public": [], **grants}  # EXECUTE revoked from PUBLIC
    return grants


def view_yaml(ctx: Context, view: m.View, indexes: list[m.Index]) -> Block:
    kind = "materialized view" if view.materialized else "view"
    ctx.names.check(f"{kind} {view.qname}", view.qname.name, *view.columns)
    out = Block()
    if view.comment is not None:
        out["comment"] = view.comment
    query = view.query.strip().rstrip(";").rstrip()
    out["query"] = query + "\n" if "\n" in query else query
    for attribute in ("security_invoker", "security_barrier", "check_option"):
        value = getattr(view, attribute)
        if value is not None:
            out[attribute] = value
    if view.materialized and not view.with_data:
        out["with_data"] = False
    if view.column_comments:
        out["column_comments"] = dict(view.column_comments)
    grants = ctx.grants(kind, view.qname.label, view.grants)
    if grants:
        out["grants"] = grants
    if indexes:
        out["indexes"] = [index_yaml(ctx, ix) for ix in indexes]
    report_extras(ctx.source.catalog, kind, view.qname.label, ctx.notes, ctx.source.current_user)
    return out


def type_acl(ctx: Context, kind: str, name: str) -> dict[str, list[str]]:
    """The type's grants as the YAML writes them: PUBLIC's built-in USAGE left out, or
    ``public: []`` where it was revoked (schemac.privileges)."""
    acl = tuple(ctx.extras(kind, name).get("acl", _TYPE_ACL))
    if acl == _TYPE_ACL:
        return {}
    grants = ctx.grants(kind, name, grants_of(acl))
    if "usage" in grants.get("public", []):
        del grants["public"]
    else:
        grants = {"public": [], **grants}
    return grants


def type_grants(ctx: Context, kind: str, qname: m.QName) -> dict[str, list[str]]:
    """A type's name checked, its grants as the YAML writes them (`type_acl`), and what else
    the catalog holds about it and the YAML cannot say reported (enums, composite and range
    types)."""
    name = qname.label
    ctx.names.check(f"{kind} {name}", qname.name)
    grants = type_acl(ctx, kind, name)
    report_extras(
        ctx.source.catalog, kind, name, ctx.notes, ctx.source.current_user, frozenset({"acl"})
    )
    return grants


def enum_yaml(ctx: Context, enum: m.Enum) -> Any:
    grants = type_grants(ctx, "enum", enum.qname)
    if enum.comment is None and not grants:
        return list(enum.values)
    out: dict[str, Any] = {"values": list(enum.values)}
    if enum.comment is not None:
        out["comment"] = enum.comment
    if grants:
        out["grants"] = grants
    return out


def _check_expression(ctx: Context, domain: str, name: str) -> str:
    expression, not_valid = ctx.source.domain_checks[(domain, name)]
    if not_valid:
        ctx.notes.lost("domain", domain, f"constraint {name}", "NOT VALID")
    return bare_expression(expression)


def domain_yaml(ctx: Context, domain: m.Domain) -> dict[str, Any]:
    name = domain.qname.label
    ctx.names.check(f"domain {name}", domain.qname.name)
    out: dict[str, Any] = {"type": ctx.type(domain.type, domain.qname.schema)}
    if domain.not_null:
        out["not_null"] = True
    if domain.default is not None:
        out["default"] = sql_value(domain.default)
    if domain.collation is not None:
        out["collation"] = domain.collation
    if domain.checks:
        for check, _ in domain.checks:
            ctx.names.check(f"constraint of domain {name}", check)
        out["checks"] = {c: _check_expression(ctx, name, c) for c, _ in domain.checks}
    if domain.comment is not None:
        out["comment"] = domain.comment
    grants = type_acl(ctx, "domain", name)
    if grants:
        out["grants"] = grants
    report_extras(
        ctx.source.catalog, "domain", name, ctx.notes, ctx.source.current_user, frozenset({"acl"})
    )
    return out


def sequence_yaml(ctx: Context, sequence: m.Sequence) -> dict[str, Any]:
    name = sequence.qname.label
    ctx.names.check(f"sequence {name}", sequence.qname.name)
    type_name = sequence.type or "bigint"
    low, high = _SEQUENCE_LIMITS.get(type_name, (1, 9223372036854775807))
    descending = (sequence.increment or 1) < 0
    if descending:
        low, high = -high - 1, -1
    out: dict[str, Any] = {}
    if type_name != "bigint":
        out["type"] = type_name
    defaults = {
        "start": high if descending else low,
        "increment": 1,
        "min_value": low,
        "max_value": high,
        "cache": 1,
    }
    values = {
        "start": sequence.start,
        "increment": sequence.increment,
        "min_value": sequence.min_value,
        "max_value": sequence.max_value,
        "cache": sequence.cache,
    }
    for key, value in values.items():
        if value is not None and value != defaults[key]:
            out[key] = value
    if sequence.cycle:
        out["cycle"] = True
    if sequence.owned_by is not None:
        table, column = sequence.owned_by
        if table.schema != sequence.qname.schema:
            ctx.notes.lost("sequence", name, "owned by", f"{table}.{column}, in another schema")
        else:
            out["owned_by"] = f"{reference_part(table.name)}.{reference_part(column)}"
    grants = ctx.grants("sequence", name, sequence.grants)
    if grants:
        out["grants"] = grants
    if sequence.comment is not None:
        out["comment"] = sequence.comment
    report_extras(ctx.source.catalog, "sequence", name, ctx.notes, ctx.source.current_user)
    return out
