"""Exact privileges: the `privileges:` block of schemac.yaml and what PUBLIC holds by default.

An object's ACL is its owner's privileges plus exactly the grants the YAML declares (the
schema-wide `*_grants` and the object's own `grants:`), so `diff` derives every REVOKE and
`check` reports every privilege the YAML does not declare (docs/yaml-format.md, Grants).
PostgreSQL gives PUBLIC some privileges on its own (EXECUTE on routines, USAGE on types and
domains): they stay unless the YAML says otherwise, with `public: []` (or a list without the
default privilege); a `security: definer` routine loses PUBLIC's EXECUTE by the project's
default, `privileges: {definer_revoke_public: true}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.loader import LocatedDict
from schemac.model import Grant

PUBLIC = "public"


@dataclass(frozen=True)
class PrivilegeSettings:
    """The `privileges:` block of schemac.yaml."""

    # A SECURITY DEFINER routine runs with its owner's rights, so by default only the roles the
    # YAML grants may call it: PUBLIC's EXECUTE is revoked unless `grants:` gives it back.
    definer_revoke_public: bool = True


_KEYS = {"definer_revoke_public"}


def parse_privilege_settings(
    data: object, where: SourceLocation | None
) -> tuple[PrivilegeSettings, list[Diagnostic]]:
    """Check the `privileges:` block; every problem is reported at its line."""
    if data is None:
        return PrivilegeSettings(), []
    if not isinstance(data, LocatedDict):
        return PrivilegeSettings(), [
            Diagnostic("E201", "'privileges' must be a mapping (definer_revoke_public)", where)
        ]
    problems = [
        Diagnostic(
            "E103", f"unknown key '{key}'", data.key_locations[key], hint=did_you_mean(key, _KEYS)
        )
        for key in data
        if key not in _KEYS
    ]
    values: dict[str, bool] = {}
    for key in sorted(_KEYS & set(data)):
        if isinstance(data[key], bool):
            values[key] = data[key]
        else:
            problems.append(
                Diagnostic(
                    "E201", f"'privileges.{key}' must be true or false", data.value_locations[key]
                )
            )
    return PrivilegeSettings(**values), problems


def public_grant(grants: Iterable[Grant]) -> Grant | None:
    """PUBLIC's entry among the declared grants, if the YAML names PUBLIC at all."""
    return next((g for g in grants if g.role == PUBLIC), None)


def revokes_public_default(
    grants: Iterable[Grant], default: str, *, definer: bool, settings: PrivilegeSettings
) -> bool:
    """Whether PUBLIC's built-in ``default`` privilege must be revoked: the YAML names PUBLIC
    without it, or (PUBLIC not named) a definer routine under ``definer_revoke_public``."""
    public = public_grant(grants)
    if public is not None:
        return default not in public.privileges and "all" not in public.privileges
    return definer and settings.definer_revoke_public
