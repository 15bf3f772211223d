"""Check results as text (people), JSON (tools) or GitHub workflow commands (annotations on a PR)."""

from __future__ import annotations

import json

from schemac.check import CheckResult, Finding

FORMATS = ("text", "json", "github")


def render(result: CheckResult, fmt: str) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "github":
        return render_github(result)
    return render_text(result)


def _summary(result: CheckResult) -> str:
    errors = len(result.errors)
    warnings = len(result.findings) - errors
    if not errors:
        checked = "; ".join(result.checked) or "nothing"
        tail = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        return f"schemac check: ok{tail}. Checked: {checked}."
    return (
        f"schemac check: {errors} problem{'s' if errors != 1 else ''}"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
        + "."
    )


def render_text(result: CheckResult) -> str:
    lines = []
    for finding in result.findings:
        where = ""
        if finding.file:
            where = (
                finding.file
                + (f":{finding.line}" if finding.line else "")
                + (f":{finding.column}" if finding.line and finding.column else "")
                + ": "
            )
        code = f"[{finding.code}]" if finding.code else ""
        lines.append(f"{where}{finding.severity}{code}: {finding.message}")
        if finding.hint:
            lines.append(f"  hint: {finding.hint}")
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"


def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        key: value
        for key, value in {
            "category": finding.category,
            "severity": finding.severity,
            "message": finding.message,
            "file": finding.file,
            "line": finding.line,
            "column": finding.column,
            "code": finding.code,
            "hint": finding.hint,
        }.items()
        if value is not None
    }


def render_json(result: CheckResult) -> str:
    data = {
        "ok": result.exit_code == 0,
        "exit_code": result.exit_code,
        "checked": result.checked,
        "findings": [_finding_json(f) for f in result.findings],
        "timings": {key: round(value, 3) for key, value in result.timings.items()},
    }
    return json.dumps(data, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: CheckResult) -> str:
    """``::error file=...,line=...::message``: GitHub shows each on the line of the pull request."""
    lines = []
    for finding in result.findings:
        command = {"error": "error", "warning": "warning"}.get(finding.severity, "notice")
        properties = []
        if finding.file:
            properties.append(f"file={_escape_property(finding.file)}")
            if finding.line:
                properties.append(f"line={finding.line}")
            if finding.line and finding.column:
                properties.append(f"col={finding.column}")
        properties.append(f"title={_escape_property('schemac check: ' + finding.category)}")
        message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(message)}")
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"
