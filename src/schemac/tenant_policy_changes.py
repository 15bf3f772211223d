"""What a change from one model to the next did to the policies of tenant tables (`lint
--base`): one dropped, one that no longer isolates or became permissive, any other change."""

from __future__ import annotations

from dataclasses import replace

from schemac import model as m
from schemac.hazards import Hazard, hazard
from schemac.project import Tenancy
from schemac.tenant_predicates import isolates_tenants, tenant_tables


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
