"""The report of `schemac lint` (and of the lint `schemac diff` runs on what it writes): text
with `file:line:col: severity[code]`, JSON, or GitHub workflow annotations, and the one-line
summary. Reading and judging the findings is lint.py's."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from schemac.hazards import Hazard, Severity, relative_path

if TYPE_CHECKING:
    from schemac.lint import LintResult


def render(result: LintResult, fmt: str, show_info: bool = False) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "github":
        return render_github(result)
    return render_text(result, show_info)


def _where(found: Hazard, root: Path) -> str:
    loc = found.location
    if loc is None:
        return ""
    return f"{relative_path(loc.path, root)}:{loc.line}:{loc.column}"


def finding_code(found: Hazard) -> str:
    return f"squawk:{found.code}" if found.source == "squawk" else found.code


def summary(result: LintResult) -> str:
    counts = Counter(
        "acknowledged" if f.acknowledged else f.severity.value for f in result.findings
    )
    blocking = sum(1 for f in result.findings if f.blocking)
    parts = [
        f"{counts[key]} {key}{'s' if counts[key] != 1 and key in ('error', 'warning') else ''}"
        for key in ("error", "warning", "info", "acknowledged")
        if counts[key]
    ]
    verdict = "fails" if blocking else "ok"
    checked = f"{len(result.files)} migration file{'s' if len(result.files) != 1 else ''}"
    checked += " and the YAML" if result.yaml_checked else ""
    return f"schemac lint: {verdict} ({', '.join(parts) or 'no findings'}; {checked})."


def render_text(result: LintResult, show_info: bool = False) -> str:
    """`file:line:col: severity[code]: message (object)`; info only when asked for."""
    lines = []
    for found in result.findings:
        if found.severity is Severity.INFO and not show_info:
            continue
        where = _where(found, result.root)
        severity = "acknowledged" if found.acknowledged else found.severity.value
        about = f" ({found.object})" if found.object and found.object not in found.message else ""
        lines.append(
            f"{where + ': ' if where else ''}{severity}[{finding_code(found)}]: {found.message}{about}"
        )
        if found.acknowledged:
            lines.append(f"  acknowledged: {found.acknowledged}")
        elif found.hint:
            lines.append(f"  hint: {found.hint}")
    hidden = sum(1 for f in result.findings if f.severity is Severity.INFO) if not show_info else 0
    if hidden:
        lines.append(f"({hidden} info not shown: --info lists them)")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def finding_json(found: Hazard, root: Path) -> dict[str, object]:
    loc = found.location
    document: dict[str, object] = {
        "code": found.code,
        "source": found.source,
        "kind": found.kind or found.code,
        "severity": found.severity.value,
        "object": found.object,
        "message": found.message,
        "file": relative_path(loc.path, root) if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "hint": found.hint,
        "acknowledged": found.acknowledged,
        "blocking": found.blocking,
    }
    return {key: value for key, value in document.items() if value is not None}


def render_json(result: LintResult) -> str:
    document = {
        "ok": result.exit_code == 0,
        "exit_code": result.exit_code,
        "files": list(result.files),
        "base": result.base,
        "findings": [finding_json(f, result.root) for f in result.findings],
    }
    return json.dumps(document, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: LintResult) -> str:
    """GitHub workflow commands: each finding an annotation on its line; info is left out and
    an acknowledged finding is a notice."""
    lines = []
    for found in result.findings:
        if found.severity is Severity.INFO:
            continue
        command = "notice" if found.acknowledged else found.severity.value
        properties = []
        if found.location is not None:
            properties += [
                f"file={_escape_property(relative_path(found.location.path, result.root))}",
                f"line={found.location.line}",
                f"col={found.location.column}",
            ]
        properties.append(f"title={_escape_property('schemac lint: ' + finding_code(found))}")
        tail = (
            f"\nacknowledged: {found.acknowledged}"
            if found.acknowledged
            else (f"\nhint: {found.hint}" if found.hint else "")
        )
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(found.message + tail)}")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"
