"""Security hazards only schemac can see: the model read against the tenancy declaration.

A *tenant table* holds rows of many organisations: it has the project's tenant column
(`tenancy.column`) or the tenant-isolation policy `tenant:` generates (`tenancy.policy`). A
*tenant schema* is a schema with at least one tenant table. Policy predicates are read as
parse trees (tenant_predicates.py), never as text: a policy isolates tenants when its USING
(and its WITH CHECK, if it has one) implies `<column> = ... current_setting('<tenancy.setting>'
...) ...`. What a change does to those policies is tenant_policy_changes.py's.
"""

from __future__ import annotations

from collections.abc import Iterator

from schemac import model as m
from schemac.diagnostics import SourceLocation
from schemac.hazards import Hazard, Severity, hazard
from schemac.project import Tenancy
from schemac.tenant_predicates import (
    filters_tenant,
    implies_tenant,
    is_constant_true,
    isolates_tenants,
    parse_expression,
    query_tree,
    relations_read,
    tenant_tables,
)

PUBLIC = "public"


def security_hazards(project: m.Project, tenancy: Tenancy) -> list[Hazard]:
    """Every security hazard of the model, each at the YAML line of its object."""
    tenants = tenant_tables(project, tenancy)
    policies: dict[m.QName, list[m.Policy]] = {}
    for _, policy in project.policies:
        policies.setdefault(policy.table, []).append(policy)
    found: list[Hazard] = []
    for _, table in project.tables:
        if table.qname in tenants:
            found += _tenant_table(table, policies.get(table.qname, []), tenancy)
    found += _not_tenant_in_tenant_schema(project, tenants, tenancy)
    found += _readable_tenant_matviews(project, tenants, tenancy)
    found += _definers(project)
    found += _public_grants(project, tenants)
    return found


def _tenant_table(table: m.Table, policies: list[m.Policy], tenancy: Tenancy) -> list[Hazard]:
    name = str(table.qname)
    found: list[Hazard] = []
    if not table.rls_enable:
        found.append(
            hazard(
                "tenant-rls-disabled",
                name,
                f"{name} holds tenant rows ({tenancy.column}) but row-level security is off: "
                "every role that may read it sees every organisation",
                table.loc,
                hint="declare `tenant: true` (RLS enabled and forced, isolation policy generated)",
            )
        )
    elif not table.rls_force:
        found.append(
            hazard(
                "tenant-rls-not-forced",
                name,
                f"row-level security on tenant table {name} is not forced: its owner, and "
                "every SECURITY DEFINER routine it owns, sees every organisation",
                table.loc,
                hint="set row_level_security: {enable: true, force: true}, or use `tenant:`",
            )
        )
    isolating = [p for p in policies if isolates_tenants(p, tenancy)]
    if not isolating:
        found.append(
            hazard(
                "tenant-policy-missing",
                name,
                f"tenant table {name} has no policy for all commands whose USING and WITH CHECK "
                f"require the tenant column to equal current_setting('{tenancy.setting}')",
                table.loc,
                hint="declare `tenant: true`, or a policy with that predicate",
            )
        )
    # Permissive policies are OR'ed: one that does not test the tenant opens other tenants'
    # rows, unless a restrictive isolation policy (AND'ed with all of them) stands guard.
    if any(not p.permissive for p in isolating):
        return found
    for policy in policies:
        if not policy.permissive or policy in isolating:
            continue
        label = f"policy {policy.name} on {name}"
        if is_constant_true(policy.using) or is_constant_true(policy.with_check):
            found.append(
                hazard(
                    "tenant-policy-broadened",
                    f"{name}.{policy.name}",
                    f"{label} is permissive with a predicate of `true`: permissive policies are "
                    f"OR'ed, so it opens every organisation's rows ({policy.command})",
                    policy.loc,
                    hint="test the tenant column in it, or make it `as: restrictive`",
                )
            )
        elif not any(
            implies_tenant(parse_expression(sql), tenancy.setting)
            for sql in (policy.using, policy.with_check)
            if sql is not None
        ):
            found.append(
                hazard(
                    "tenant-policy-unscoped",
                    f"{name}.{policy.name}",
                    f"{label} is permissive and does not test the tenant: rows it admits are "
                    "visible across organisations",
                    policy.loc,
                    hint="add the tenant test, or make it `as: restrictive`",
                )
            )
    return found


def _not_tenant_in_tenant_schema(
    project: m.Project, tenants: set[m.QName], tenancy: Tenancy
) -> list[Hazard]:
    tenant_schemas = {q.schema for q in tenants}
    return [
        hazard(
            "tenant-schema-table-not-tenant",
            str(t.qname),
            f"{t.qname} is in tenant schema {t.qname.schema} but is not tenant-scoped "
            f"(no `tenant:`, no {tenancy.column}): its rows are shared by every organisation",
            t.loc,
            hint="declare `tenant: true`, or acknowledge it as global in lint.acknowledge",
        )
        for _, t in project.tables
        if t.qname.schema in tenant_schemas and t.qname not in tenants
    ]


def _readable_tenant_matviews(
    project: m.Project, tenants: set[m.QName], tenancy: Tenancy
) -> Iterator[Hazard]:
    """Row-level security does not apply to a materialized view: it holds the rows of every
    organisation its refresher could see, and a role granted SELECT on it reads them all,
    directly or through a view that does not filter the tenant itself."""
    trees = {view.qname: query_tree(view.query) for _, view in project.views}
    reads = {qname: relations_read(tree) for qname, tree in trees.items()}
    tenant_rows = set(tenants)
    grew = True
    while grew:  # a view of a view of a tenant table holds tenant rows too
        grown = {q for q, read in reads.items() if read & tenant_rows}
        grew = not grown <= tenant_rows
        tenant_rows |= grown
    unfiltered = {v.qname for _, v in project.views if v.materialized and v.qname in tenant_rows}
    for _, view in project.views:
        readable = any({"select", "all"} & set(g.privileges) for g in view.grants)
        if not readable or view.qname not in tenant_rows:
            continue
        if view.materialized:
            source = next(iter(sorted(reads[view.qname] & tenant_rows)))
            what = f"materialized view {view.qname} holds tenant rows (from {source})"
        else:
            leaking = sorted(reads[view.qname] & unfiltered)
            if not leaking or filters_tenant(trees[view.qname], tenancy.setting):
                continue
            unfiltered.add(view.qname)
            what = f"view {view.qname} reads materialized view {leaking[0]} without a tenant filter"
        roles = ", ".join(sorted({g.role for g in view.grants}))
        yield hazard(
            "tenant-matview-readable",
            str(view.qname),
            f"{what} and is granted to {roles}: row-level security does not filter a "
            "materialized view",
            view.loc,
            hint="revoke it; read it through a view whose WHERE tests the tenant setting",
        )


def _search_path(function: m.Function) -> list[str] | None:
    for name, value in function.settings:
        if name.lower() == "search_path":
            return [part.strip().strip('"') for part in value.split(",") if part.strip()]
    return None


def _definers(project: m.Project) -> Iterator[Hazard]:
    for _, function in project.functions:
        if not function.security_definer:
            continue
        name = str(function.qname)
        path = _search_path(function)
        if path is None:
            yield hazard(
                "definer-without-search-path",
                name,
                f"SECURITY DEFINER {name} runs with its owner's rights but takes the caller's "
                "search_path: a caller's own schema can shadow the tables, functions and "
                "operators it uses",
                function.loc,
                hint='add `set: {search_path: "pg_catalog, pg_temp"}` and qualify names in the body',
            )
        elif not path or path[-1] != "pg_temp":
            yield hazard(
                "definer-search-path-temp-first",
                name,
                f"the search_path of SECURITY DEFINER {name} does not end in pg_temp: "
                "PostgreSQL then searches the caller's temporary schema first",
                function.loc,
                hint="list pg_temp last",
            )


def _public_grants(project: m.Project, tenants: set[m.QName]) -> Iterator[Hazard]:
    error, warning = Severity.ERROR, Severity.WARNING
    objects: list[tuple[str, str, tuple[m.Grant, ...], SourceLocation, Severity]] = [
        *(("table", str(t.qname), t.grants, t.loc, error) for _, t in project.tables),
        *(("view", str(v.qname), v.grants, v.loc, error) for _, v in project.views),
        *(("sequence", str(q.qname), q.grants, q.loc, warning) for _, q in project.sequences),
        # schemac REVOKEs a definer routine from PUBLIC; a grant puts it back
        *(
            ("function", str(f.qname), f.grants, f.loc, error if f.security_definer else warning)
            for _, f in project.functions
        ),
        *(("schema", s.name, s.grants, s.loc, warning) for _, s in project.schemas),
    ]
    for kind, name, grants, loc, severity in objects:
        for grant in grants:
            if grant.role.lower() != PUBLIC:
                continue
            tenant = (
                " (a tenant table)" if kind == "table" and name in {str(q) for q in tenants} else ""
            )
            yield hazard(
                "grant-to-public",
                name,
                f"{', '.join(grant.privileges).upper()} on {kind} {name}{tenant} is granted to "
                "PUBLIC: every role, present and future, holds it",
                loc,
                severity=severity,
                hint="grant it to the roles that need it",
            )
