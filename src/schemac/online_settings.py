"""The `migrations:` block of schemac.yaml: the timeouts every written migration starts with
and the online-safe rewrites of `online.py`, each on unless turned off (docs/safety.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.loader import LocatedDict


@dataclass(frozen=True)
class MigrationSettings:
    """The `migrations:` block of schemac.yaml."""

    # How long a statement may wait for its lock before the migration fails (and can simply be
    # run again): a DDL statement queued behind a long query makes every later query on the
    # table queue behind it, so the wait must be short. PostgreSQL's interval syntax.
    lock_timeout: str = "5s"
    # How long one statement of a file that takes blocking locks may run: bounds how long a lock
    # is held when a statement is slower than expected. Files of statements that block nobody
    # (concurrent index builds, VALIDATE) run without it: killing them only wastes the work.
    statement_timeout: str = "5min"
    concurrent_indexes: bool = True
    validate_constraints: bool = True
    not_null_through_check: bool = True


_KEYS = {
    "lock_timeout",
    "statement_timeout",
    "concurrent_indexes",
    "validate_constraints",
    "not_null_through_check",
}
_UNITS = ("us", "ms", "s", "min", "h", "d")


def is_duration(text: str) -> bool:
    """A PostgreSQL time setting as schemac writes it: digits, then one of its units, or 0."""
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :]
    return (
        digits.isdigit() and len(digits) <= 9 and (unit in _UNITS or (unit == "" and digits == "0"))
    )


def parse_migration_settings(
    data: object, where: SourceLocation | None
) -> tuple[MigrationSettings, list[Diagnostic]]:
    """Check the `migrations:` block; every problem is reported at its line."""
    if data is None:
        return MigrationSettings(), []
    if not isinstance(data, LocatedDict):
        return MigrationSettings(), [
            Diagnostic("E201", "'migrations' must be a mapping (see docs/safety.md)", where)
        ]
    problems = [
        Diagnostic(
            "E103", f"unknown key '{key}'", data.key_locations[key], hint=did_you_mean(key, _KEYS)
        )
        for key in data
        if key not in _KEYS
    ]
    values: dict[str, Any] = {}
    for key in ("lock_timeout", "statement_timeout"):
        if key not in data:
            continue
        value = data[key]
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if text == 0 or text == "0":
            text = "0"
        if not isinstance(text, str) or not is_duration(text.strip()):
            problems.append(
                Diagnostic(
                    "E201",
                    f"'migrations.{key}' must be a duration such as 5s, 500ms, 2min or 0 (off)",
                    data.value_locations[key],
                )
            )
        else:
            values[key] = text.strip()
    for key in ("concurrent_indexes", "validate_constraints", "not_null_through_check"):
        if key in data:
            if isinstance(data[key], bool):
                values[key] = data[key]
            else:
                problems.append(
                    Diagnostic(
                        "E201",
                        f"'migrations.{key}' must be true or false",
                        data.value_locations[key],
                    )
                )
    return MigrationSettings(**values), problems
