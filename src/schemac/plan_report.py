"""What `schemac diff` says about its typed plan: each operation's hazards, at the line of the
file that holds it, and why a plan was refused."""

from __future__ import annotations

from collections.abc import Sequence

from schemac.destructive import DestructiveChange
from schemac.hazards import Hazard, Severity
from schemac.migration_files import PlannedFile


def plan_hazards_text(files: Sequence[PlannedFile], show_info: bool = True) -> str:
    """`generated/migrations/V002__x.sql:7: severity[code]: message`, file by file."""
    lines = []
    for planned in files:
        text_lines = planned.text.splitlines()
        for operation in planned.operations:
            first = operation.sql.splitlines()[0] if operation.sql else ""
            line = next((i + 1 for i, t in enumerate(text_lines) if t == first), 1)
            for found in operation.hazards:
                if found.severity is Severity.INFO and not show_info:
                    continue
                severity = "acknowledged" if found.acknowledged else found.severity.value
                lines.append(
                    f"generated/{planned.relative_path}:{line}: {severity}[{found.code}]: "
                    f"{found.message}"
                )
                if found.acknowledged:
                    lines.append(f"  acknowledged: {found.acknowledged}")
    counts = {
        s: sum(1 for f in files for o in f.operations for h in o.hazards if h.severity is s)
        for s in Severity
    }
    lines.append(
        f"schemac plan: {len(files)} file{'s' if len(files) != 1 else ''}, "
        f"{sum(len(f.operations) for f in files)} operations; hazards: "
        + ", ".join(f"{counts[s]} {s.value}" for s in Severity)
        + "."
    )
    return "\n".join(lines) + "\n"


def refusal_text(
    losses: Sequence[DestructiveChange],
    rewrites: Sequence[Hazard],
    allow_destructive: bool,
    allow_rewrite: bool,
) -> str:
    """Why nothing was written, and the two ways to accept it."""
    lines = []
    if losses and not allow_destructive:
        lines.append("refused: the migration would lose data:")
        for change in losses:
            lines.append(f"  - {change.reason}\n      {change.statement.splitlines()[0]}")
    if rewrites and not allow_rewrite:
        lines.append(
            "refused: the migration would rewrite an existing table under ACCESS EXCLUSIVE:"
        )
        for found in rewrites:
            lines.append(f"  - {found.object}: {found.message}")
    lines.append(
        "Nothing was written. Check the YAML (a rename needs `renamed_from:`); if the change is "
        "intended, acknowledge it in schemac.yaml (lint.acknowledge: {rule: deletes-data or "
        "table-rewrite, object: <table>, reason: ...}) or pass --allow-destructive / "
        "--allow-rewrite."
    )
    return "\n".join(lines)
