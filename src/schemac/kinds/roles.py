"""Roles: project-wide, created before every schema (the first migration's top)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import free_dollar_tag
from schemac.node_keys import node_key

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    data = doc.data
    for name, role in (data.get("roles") or {}).items():
        b.add(
            "roles",
            u,
            m.Role(
                name,
                bool(role.get("login", False)),
                bool(role.get("inherit", True)),
                bool(role.get("bypass_rls", False)),
                bool(role.get("create_role", False)),
                bool(role.get("create_db", False)),
                role.get("connection_limit"),
                tuple(role.get("member_of", ())),
                role.get("comment"),
                data["roles"].key_locations[name],
            ),
        )


def edges(a: Analyser, role: m.Role) -> set[str]:
    deps: set[str] = set()
    for other in role.member_of:
        deps |= a.role_dependency(other)
    return deps


def names(a: Analyser, role: m.Role, claims: NameClaims) -> None:
    claims.name(role.name, role.loc)


def check(a: Analyser) -> None:
    for _, role in a.p.roles:
        for other in role.member_of:
            a.check_role(other, role.loc)


def _nodes(role: Any) -> tuple[tuple[str, str], ...]:
    return (("role", node_key("role", role.name)),)


ROLE = Kind(
    "role",
    field="roles",
    project_wide=True,
    build=build,
    nodes=_nodes,
    located=Located("role", ("role",)),
    edges=edges,
    check=check,
    names=names,
    template="role",
    dollar=lambda role: free_dollar_tag(role.name, "role"),
    # Roles belong to the server: catalog.roles reads them apart from read_catalog.
    comparison=Comparison(("role",)),
)
