"""Row-level security of a table: its flags, its `policies:` and the tenant policy of
`tenant:`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.routines import read_policies
from schemac.kinds.common import claim_table_member_name, expression, on_table, relations_read
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import quote_ident, quote_literal
from schemac.sqlfields import items
from schemac.validate import locate

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import Document, LocatedDict
    from schemac.sqlfields import FieldChecker

# -- policies and row-level security ---------------------------------------------------------


def policy_fields(checker: FieldChecker, t: LocatedDict) -> None:
    for policy_name, policy in items(t.get("policies")):
        checker.sql(policy, "using", f"the using of policy '{policy_name}'")
        checker.sql(policy, "with_check", f"the with_check of policy '{policy_name}'")


def build_policies(
    b: Builder, u: int, qname: m.QName, t: LocatedDict, doc: Document, path: list[Any]
) -> tuple[bool, bool]:
    """The table's policies (and the tenant policy of `tenant:`); its RLS enable and force flags."""
    rls = t.get("row_level_security") or {}
    rls_enable = bool(rls.get("enable", False))
    rls_force = bool(rls.get("force", False))
    tenant = t.get("tenant")
    if tenant and (rls.get("enable") is False or rls.get("force") is False):
        b.error(
            "E314",
            "tenant: enables and forces row-level security; row_level_security says otherwise",
            locate(doc, [*path, "row_level_security"]),
            hint="remove row_level_security, or drop tenant: and declare the policies yourself",
        )
    if tenant:
        rls_enable = rls_force = True
        _tenant_policy(b, u, qname, t, tenant)
    for pol_name, p in (t.get("policies") or {}).items():
        b.add(
            "policies",
            u,
            m.Policy(
                pol_name,
                qname,
                p.get("as", "permissive") == "permissive",
                p.get("command", "all"),
                tuple(p.get("roles", ())),
                expression(p.get("using")),
                expression(p.get("with_check")),
                p.get("comment"),
                t["policies"].key_locations[pol_name],
            ),
        )
    return rls_enable, rls_force


def _tenant_policy(b: Builder, u: int, qname: m.QName, t: LocatedDict, tenant: Any) -> None:
    tenancy = b.settings.tenancy
    tenant_column = tenancy.column if tenant is True else str(tenant)
    loc = t.value_locations["tenant"]
    if tenant_column not in t["columns"]:
        b.error(
            "E307",
            f"tenant column '{tenant_column}' is not a column of {qname}",
            loc,
            hint="add the column or name the tenant column: tenant: <column>",
        )
    b.check_tenancy_type(tenancy.type, loc)
    predicate = (
        f"{quote_ident(tenant_column)} = NULLIF(current_setting({quote_literal(tenancy.setting)}, true), '')"
        f"::{tenancy.type}"
    )
    b.add(
        "policies",
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


def policy_edges(a: Analyser, policy: m.Policy) -> set[str]:
    deps = a.sql_dependencies(policy.using, policy.with_check)
    if policy.table in a.relation_keys:
        deps.add(a.relation_keys[policy.table])
    for role in policy.roles:
        deps |= a.role_dependency(role)
    return deps


def check_policies(a: Analyser) -> None:
    for _, policy in a.p.policies:
        for policy_role in policy.roles:
            a.check_role(policy_role, policy.loc)
        if policy.command == "insert" and policy.using:
            a.error(
                "E366",
                f"policy '{policy.name}': an insert policy takes with_check only",
                policy.loc,
            )
        if policy.command in ("select", "delete") and policy.with_check:
            a.error(
                "E366",
                f"policy '{policy.name}': a {policy.command} policy takes using only",
                policy.loc,
            )


POLICY = Kind(
    "policy",
    field="policies",
    table_member=True,
    nodes=on_table("policy", "policy"),
    located=Located("policy", ("policy",), per_table=True),
    edges=policy_edges,
    check=check_policies,
    names=claim_table_member_name,
    template="policy",
    reader=lambda conn, out, reading: read_policies(conn, out, relations_read(reading)),
    comparison=Comparison(("policy",)),
)
