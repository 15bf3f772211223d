"""What one database holds, as the model classes the YAML builds, plus what they cannot hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemac.diagnostics import SourceLocation

# Objects read from a catalog come from no YAML file; their location says so.
CATALOG_LOCATION = SourceLocation(Path("pg_catalog"), 0, 0)


@dataclass
class CatalogModel:
    """Model objects by kind and name, and the attributes no model field holds (``extras``).

    Names: ``schema.name`` for objects in a schema, ``schema.name(argument types)`` for
    routines, ``name on schema.table`` for triggers, policies and foreign keys, the bare name
    for roles, schemas and extensions; a part holding a dot or a quote is double-quoted
    (``QName.label``, ``naming.member_label``: ``"a.b".c`` and ``a."b.c"`` are two names). ``extras[(kind, name)]`` maps an attribute (``owner``,
    ``acl``, ``column email: acl``, ``constraint x: comment``, ...) to its value, so a
    hand-made change of it is found although the YAML cannot declare it.
    """

    objects: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in kinds()})
    extras: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, name: str, obj: Any, **extras: Any) -> None:
        # Labels quote the parts that would make them ambiguous (QName.label, member_label), so
        # two objects of one kind never share one; one that did would hide the other in silence.
        if name in self.objects[kind]:
            raise AssertionError(f"internal error: two catalog objects are named {kind} {name}")
        self.objects[kind][name] = obj
        for attribute, value in extras.items():
            self.set_extra(kind, name, attribute.replace("_", " "), value)

    def set_extra(self, kind: str, name: str, attribute: str, value: Any) -> None:
        self.extras.setdefault((kind, name), {})[attribute] = value

    def of(self, kind: str) -> dict[str, Any]:
        return self.objects[kind]

    def count(self) -> dict[str, int]:
        """Objects per kind, for reports and benchmarks."""
        return {kind: len(found) for kind, found in self.objects.items() if found}


def kinds() -> tuple[str, ...]:
    """Every kind the reader produces, in the order differences are reported (dependencies
    first): the catalog kinds of schemac.kinds' registry."""
    # Imported here: the kinds import this package's readers.
    from schemac.kinds import CATALOG_KINDS

    return CATALOG_KINDS
