"""A table's triggers and policies, and whether its policy is the project's tenant policy."""

from __future__ import annotations

from typing import Any

from schemac import model as m
from schemac.importer.context import Context, relative_name
from schemac.importer.extras import report_extras
from schemac.importer.names import bare_expression
from schemac.importer.yaml_writer import Block
from schemac.naming import member_label, quote_literal

# The name and comment build.py gives the policy `tenant: true` generates.
_TENANT_COMMENT = "Tenant isolation: rows of the organization in {setting} only."


def tenant_predicate(column: str, setting: str, type_name: str) -> str:
    """The tenant policy's predicate as PostgreSQL prints it back (pg_get_expr), search_path
    being pg_catalog: what build.py's ``col = NULLIF(current_setting('s', true), '')::type``
    becomes once stored."""
    return (
        f"({column} = (NULLIF(current_setting({quote_literal(setting)}::text, true), "
        f"''::text))::{type_name})"
    )


def _tenant_column(ctx: Context, table: m.Table, policy: m.Policy) -> str | None:
    """The tenant column when ``policy`` is exactly the one ``tenant:`` generates."""
    tenancy = ctx.tenancy
    if not (table.rls_enable and table.rls_force):
        return None
    if policy.name != tenancy.policy or not policy.permissive or policy.command != "all":
        return None
    if policy.roles not in ((), ("public",)):
        return None
    if policy.comment != _TENANT_COMMENT.format(setting=tenancy.setting):
        return None
    for column in table.columns:
        expected = tenant_predicate(column.name, tenancy.setting, tenancy.type)
        if policy.using == expected and policy.with_check == expected:
            return column.name
    return None


def plain_policies(ctx: Context, relation: m.QName, policies: list[m.Policy]) -> dict[str, Any]:
    """The ``policies:`` of a relation that cannot be a tenant table (a partition)."""
    out: dict[str, Any] = {}
    for policy in sorted(policies, key=lambda p: p.name):
        ctx.names.check(f"policy on {relation}", policy.name)
        out[policy.name] = _policy(ctx, policy)
    return out


def policies_and_tenancy(
    ctx: Context, table: m.Table, policies: list[m.Policy]
) -> tuple[dict[str, Any], Any]:
    """The table's ``policies:`` and its ``tenant:`` value (None: not a tenant table)."""
    tenant: Any = None
    others: list[m.Policy] = []
    for policy in sorted(policies, key=lambda p: p.name):
        column = _tenant_column(ctx, table, policy) if tenant is None else None
        if column is not None:
            tenant = True if column == ctx.tenancy.column else column
            continue
        others.append(policy)
    return plain_policies(ctx, table.qname, others), tenant


def _policy(ctx: Context, policy: m.Policy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not policy.permissive:
        out["as"] = "restrictive"
    if policy.command != "all":
        out["command"] = policy.command
    if policy.roles not in ((), ("public",)):
        for role in policy.roles:
            ctx.names.check(f"role of policy {policy.name} on {policy.table}", role)
        out["roles"] = list(policy.roles)
    if policy.using is not None:
        out["using"] = bare_expression(policy.using)
    if policy.with_check is not None:
        out["with_check"] = bare_expression(policy.with_check)
    if policy.comment is not None:
        out["comment"] = policy.comment
    return out


def triggers_of(ctx: Context, triggers: list[m.Trigger], schema: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for trigger in sorted(triggers, key=lambda t: t.name):
        name = member_label(trigger.name, trigger.table.label)
        ctx.names.check(f"trigger on {trigger.table}", trigger.name)
        item = Block()
        item["timing"] = trigger.timing.replace(" ", "_")
        item["events"] = list(trigger.events)
        if trigger.update_of:
            item["update_of"] = list(trigger.update_of)
        item["for_each"] = trigger.for_each
        when = ctx.source.trigger_when.get(name)
        if when is not None:
            item["when"] = when
        item["function"] = relative_name(trigger.function, schema)
        if trigger.arguments:
            item["arguments"] = list(trigger.arguments)
        referencing = {
            key: value
            for key, value in (("old_table", trigger.old_table), ("new_table", trigger.new_table))
            if value is not None
        }
        if referencing:
            item["referencing"] = referencing
        if trigger.comment is not None:
            item["comment"] = trigger.comment
        if trigger.enabled != "enabled":
            ctx.notes.lost("trigger", name, "enabled", f"ALTER TABLE ... {trigger.enabled.upper()}")
        report_extras(ctx.source.catalog, "trigger", name, ctx.notes, ctx.source.current_user)
        out[trigger.name] = item
    return out
