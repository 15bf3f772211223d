"""What every part of the importer shares: the database read, the settings, the losses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemac import model as m
from schemac.importer.database import Source
from schemac.importer.names import NameCheck, TypeNames, relative, short_type
from schemac.importer.notes import Notes
from schemac.privileges import PrivilegeSettings
from schemac.project import Tenancy


@dataclass
class Context:
    source: Source
    tenancy: Tenancy
    types: TypeNames
    notes: Notes = field(default_factory=Notes)
    names: NameCheck = field(default_factory=NameCheck)
    # partitions13: each relation's indexes, foreign keys, partitions ... (units._by_table), so
    # a partition's own objects and its own partitions are found
    by_relation: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # what PUBLIC keeps by default: a definer routine's EXECUTE (schemac.privileges)
    privileges: PrivilegeSettings = field(default_factory=PrivilegeSettings)

    def of(self, kind: str) -> dict[str, Any]:
        return self.source.catalog.of(kind)

    def extras(self, kind: str, name: str) -> dict[str, Any]:
        return self.source.catalog.extras.get((kind, name), {})

    def type(self, text: str, schema: str) -> str:
        return short_type(text, schema, self.types)

    def grants(self, kind: str, name: str, grants: tuple[m.Grant, ...]) -> dict[str, list[Any]]:
        """``role: [privilege, ...]`` as the YAML writes it (PUBLIC is ``public``; a privilege
        held WITH GRANT OPTION is ``{privilege: with_grant_option}``)."""
        out: dict[str, list[Any]] = {}
        for grant in grants:
            role = "public" if grant.role == "PUBLIC" else grant.role
            if role != "public":
                self.names.check(f"role granted on {kind} {name}", role)
            out[role] = list(m.grant_items(grant))
        return out


def relative_name(qname: m.QName, schema: str) -> str:
    return relative(qname, schema)
