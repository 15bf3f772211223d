"""Warnings: YAML that compiles and applies but does not do what it says. They are printed by
`validate` and `compile` and never change the exit code."""

from __future__ import annotations

from schemac import model as m
from schemac.diagnostics import Diagnostic


def project_warnings(project: m.Project) -> list[Diagnostic]:
    """Every warning about `project`, in source order."""
    tables = {table.qname: table for _, table in project.tables}
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
                    hint="add `row_level_security: {enable: true}` (or `tenant:`) to the table",
                    severity="warning",
                )
            )
    return sorted(found, key=Diagnostic.sort_key)
