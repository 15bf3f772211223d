"""The catalog attributes no model field holds: each is either what the YAML gives anyway, or a loss.

The catalog reader keeps every attribute the model classes cannot hold in ``extras``. Import
goes through all of them for every object it writes: an attribute with the value schemac's
migrations give it anyway is fine; any other value is reported as a loss naming the object
and the attribute. An attribute this module does not know is a loss too, so an attribute the
reader learns later cannot be dropped in silence.
"""

from __future__ import annotations

from typing import Any

from schemac.catalog import CatalogModel
from schemac.importer.notes import Notes

# Integer types' largest values, for an identity sequence's default MAXVALUE.
_TYPE_MAX = {"smallint": "32767", "integer": "2147483647", "bigint": "9223372036854775807"}


def _identity_default(value: Any) -> bool:
    type_name, start, increment, minimum, maximum, cache, cycle = value
    return bool(
        start == "1"
        and increment == "1"
        and minimum == "1"
        and maximum == _TYPE_MAX.get(type_name)
        and cache == "1"
        and cycle == "false"
    )


def _fine(attribute: str, value: Any, current_user: str) -> bool:
    """Whether the attribute has the value the YAML's migrations give it anyway."""
    field = attribute.rsplit(": ", 1)[-1]
    checks: dict[str, Any] = {
        "definition": lambda v: True,  # the model's fields say the same
        "acl": lambda v: True,  # the grants (and grant options) are imported from the model
        "owner": lambda v: v == current_user,
        "options": lambda v: not v,
        "validated": lambda v: v is True,
        "valid": lambda v: v is True,
        "no inherit": lambda v: v is False,
        "comment": lambda v: v is None,
        "identity sequence": _identity_default,
        "generated kind": lambda v: v == "s",
        "row level security": lambda v: v == (False, False),
        "replica identity": lambda v: v == "default",
        "partition by": lambda v: v is None,
        "superuser": lambda v: v is False,
        "replication": lambda v: v is False,
        "settings": lambda v: not v,
    }
    check = checks.get(field)
    return bool(check(value)) if check is not None else False


def report_extras(
    catalog: CatalogModel,
    kind: str,
    name: str,
    notes: Notes,
    current_user: str,
    handled: frozenset[str] = frozenset(),
) -> None:
    """A loss for each extra attribute of ``kind name`` the YAML cannot reproduce.

    ``handled``: attributes the caller already imported or reported itself.
    """
    obj = catalog.of(kind).get(name)
    checks = {c.name for c in getattr(obj, "constraints", ()) if c.kind == "check"}
    for attribute, value in sorted(catalog.extras.get((kind, name), {}).items()):
        if attribute in handled or _fine(attribute, value, current_user):
            continue
        constraint = attribute.removeprefix("constraint ").removesuffix(": no inherit")
        if (
            attribute.endswith(": no inherit")
            and constraint != attribute
            and constraint not in checks
        ):
            continue  # PostgreSQL marks every key NO INHERIT; only for a check is it a choice
        notes.lost(kind, name, attribute, _shown(attribute, value, current_user))


def _shown(attribute: str, value: Any, current_user: str) -> str:
    if attribute.endswith("owner"):
        return (
            f"owned by {value}; the imported objects belong to the role that runs the "
            f"migrations ({current_user} here)"
        )
    return f"the database has {value!r}; the YAML format has no place for it"
