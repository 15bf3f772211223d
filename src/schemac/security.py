"""Security hazards only schemac can see: the model read against the tenancy declaration.

A *tenant table* holds rows of many organisations: it has the project's tenant column
(`tenancy.column`) or the tenant-isolation policy `tenant:` generates (`tenancy.policy`). A
*tenant schema* is a schema with at least one tenant table. Policy predicates are read as
parse trees (pglast), never as text: a policy isolates tenants when its USING (and its WITH
CHECK, if it has one) implies `<column> = ... current_setting('<tenancy.setting>' ...) ...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache

import pglast
from pglast import ast

from schemac import model as m
from schemac.diagnostics import SourceLocation
from schemac.hazards import Hazard, Severity, hazard
from schemac.project import Tenancy

PUBLIC = "public"


@lru_cache(maxsize=4096)
def _expression(sql: str) -> ast.Node | None:
    """The parse tree of one SQL expression; None if it does not parse as one (the compiler
    reports that; a hazard check never guesses)."""
    try:
        statements = pglast.parse_sql(f"SELECT ({sql})")
    except pglast.parser.ParseError:
        return None
    select = statements[0].stmt
    if len(statements) != 1 or not isinstance(select, ast.SelectStmt) or not select.targetList:
        return None
    target = select.targetList[0]
    return target.val if isinstance(target, ast.ResTarget) else None


def _is_constant_true(sql: str | None) -> bool:
    node = _expression(sql) if sql is not None else None
    return (
        isinstance(node, ast.A_Const)
        and isinstance(node.val, ast.Boolean)
        and node.val.boolval is True
    )


def _nodes(node: object) -> Iterator[ast.Node]:
    """Every node of a parse tree, depth first."""
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _nodes(item)


def _last_name(names: tuple[ast.String, ...] | None) -> str | None:
    return str(names[-1].sval) if names else None


def _reads_setting(node: ast.Node, setting: str) -> bool:
    for inner in _nodes(node):
        if not isinstance(inner, ast.FuncCall) or _last_name(inner.funcname) != "current_setting":
            continue
        first = inner.args[0] if inner.args else None
        if (
            isinstance(first, ast.A_Const)
            and isinstance(first.val, ast.String)
            and first.val.sval == setting
        ):
            return True
    return False


def _implies_tenant(node: ast.Node | None, setting: str) -> bool:
    """The predicate holds only for rows whose column equals the tenant setting: a tenant
    equality, or an AND with one among its terms (an OR could let other rows in)."""
    if isinstance(node, ast.BoolExpr) and node.boolop == pglast.enums.BoolExprType.AND_EXPR:
        return any(_implies_tenant(arg, setting) for arg in node.args or ())
    if not (
        isinstance(node, ast.A_Expr)
        and node.kind == pglast.enums.A_Expr_Kind.AEXPR_OP
        and [n.sval for n in node.name or ()] == ["="]
    ):
        return False
    sides = (node.lexpr, node.rexpr)
    return any(
        isinstance(column, ast.ColumnRef)
        and isinstance(other, ast.Node)
        and _reads_setting(other, setting)
        for column, other in (sides, sides[::-1])
    )


def isolates_tenants(policy: m.Policy, tenancy: Tenancy) -> bool:
    """A policy for every command whose predicates keep each organisation to its own rows."""
    if policy.command != "all" or policy.using is None:
        return False
    checks = [policy.using] if policy.with_check is None else [policy.using, policy.with_check]
    return all(_implies_tenant(_expression(sql), tenancy.setting) for sql in checks)


def tenant_tables(project: m.Project, tenancy: Tenancy) -> set[m.QName]:
    with_policy = {p.table for _, p in project.policies if p.name == tenancy.policy}
    return {
        t.qname for _, t in project.tables if t.qname in with_policy or t.column(tenancy.column)
    }


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
        if _is_constant_true(policy.using) or _is_constant_true(policy.with_check):
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
            _implies_tenant(_expression(sql), tenancy.setting)
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


def _query_tree(query: str) -> ast.Node | None:
    try:
        statements = pglast.parse_sql(query)
    except pglast.parser.ParseError:
        return None
    return statements[0].stmt if len(statements) == 1 else None


def _relations_read(tree: ast.Node | None) -> set[m.QName]:
    return {
        m.QName(node.schemaname, str(node.relname))
        for node in _nodes(tree)
        if isinstance(node, ast.RangeVar) and node.schemaname
    }


def _filters_tenant(tree: ast.Node | None, setting: str) -> bool:
    return isinstance(tree, ast.SelectStmt) and _implies_tenant(tree.whereClause, setting)


def _readable_tenant_matviews(
    project: m.Project, tenants: set[m.QName], tenancy: Tenancy
) -> Iterator[Hazard]:
    """Row-level security does not apply to a materialized view: it holds the rows of every
    organisation its refresher could see, and a role granted SELECT on it reads them all,
    directly or through a view that does not filter the tenant itself."""
    trees = {view.qname: _query_tree(view.query) for _, view in project.views}
    reads = {qname: _relations_read(tree) for qname, tree in trees.items()}
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
            if not leaking or _filters_tenant(trees[view.qname], tenancy.setting):
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


def compare_states(previous: m.Project, current: m.Project, tenancy: Tenancy) -> list[Hazard]:
    """What the change from `previous` to `current` did to the policies of tenant tables: one
    dropped, one that no longer isolates or became permissive, any other change to review."""
    renamed = {
        m.QName(t.qname.schema, t.renamed_from): t.qname
        for _, t in current.tables
        if t.renamed_from
    }
    tenants = tenant_tables(previous, tenancy)
    tenants |= {renamed.get(q, q) for q in tenants} | tenant_tables(current, tenancy)
    before = {
        (renamed.get(p.table, p.table), p.name): p
        for _, p in previous.policies
        if renamed.get(p.table, p.table) in tenants
    }
    after = {(p.table, p.name): p for _, p in current.policies}
    tables = {t.qname: t for _, t in current.tables}
    found: list[Hazard] = []
    for (table, name), old in sorted(before.items()):
        if table not in tables:
            continue  # the table itself went: deletes-data is the hazard of that
        new = after.get((table, name))
        if new is None:
            found.append(
                hazard(
                    "tenant-policy-dropped",
                    f"{table}.{name}",
                    f"policy {name} of tenant table {table} is gone (it was: "
                    f"{old.command} USING {old.using or '-'})",
                    tables[table].loc,
                    hint="keep it, or acknowledge the drop if another policy replaces it",
                )
            )
        elif (changed := _policy_change(old, new, tenancy)) is not None:
            found.append(changed)
    return found


def _policy_change(old: m.Policy, new: m.Policy, tenancy: Tenancy) -> Hazard | None:
    label = f"{new.table}.{new.name}"
    what = f"policy {new.name} of tenant table {new.table}"
    if isolates_tenants(old, tenancy) and not isolates_tenants(new, tenancy):
        return hazard(
            "tenant-policy-broadened",
            label,
            f"{what} no longer isolates tenants: USING {old.using} became {new.using or '-'}",
            new.loc,
        )
    if not old.permissive and new.permissive:
        return hazard(
            "tenant-policy-broadened",
            label,
            f"{what} became permissive: it no longer narrows the other policies, it adds rows",
            new.loc,
        )
    if replace(old, comment=None) != replace(new, comment=None):
        return hazard(
            "authorization-change",
            label,
            f"{what} changed (command, roles or predicates): review who now sees which rows",
            new.loc,
        )
    return None
