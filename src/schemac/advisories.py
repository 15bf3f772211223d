"""Warnings: YAML that compiles and applies but does not do what it says. They are printed by
`validate` and `compile` and never change the exit code."""

from __future__ import annotations

from schemac import model as m
from schemac.diagnostics import Diagnostic


def project_warnings(project: m.Project) -> list[Diagnostic]:
    """Every warning about `project`, in source order."""
    tables: dict[m.QName, m.Table | m.Partition] = {t.qname: t for _, t in project.tables}
    tables.update((p.qname, p) for _, p in project.partitions)  # a partition's own flags
    found: list[Diagnostic] = []
    for _, policy in project.policies:
        table = tables.get(policy.table)
        if table is not None and not table.rls_enable:
            found.append(
                Diagnostic(
                    "W310",
                    f"policy '{policy.name}' on {policy.table} has no effect: row level "
                    "security is off for the table",
                    policy.loc,
                    hint="add `row_level_security: {enable: true}` (or `tenant:`) to the table"
                    if isinstance(table, m.Table)
                    else "add `row_level_security: {enable: true}` to the partition",
                    severity="warning",
                )
            )
    return sorted(found, key=Diagnostic.sort_key)
