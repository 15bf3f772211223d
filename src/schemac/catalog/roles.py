"""Roles: flags, memberships and comments, read from a server as model objects.

Roles belong to the whole server, not to one database, so two shadow databases on one server
always see the same roles; what the migrations make of the roles is therefore read once, right
after they are replayed (see :mod:`schemac.drift`), and kept as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.queries import options, rows

ROLES = """
SELECT r.rolname AS name, r.rolcanlogin, r.rolinherit, r.rolbypassrls, r.rolcreaterole,
       r.rolcreatedb, r.rolconnlimit, r.rolsuper, r.rolreplication, r.rolconfig,
       ARRAY(SELECT DISTINCT g.rolname FROM pg_catalog.pg_auth_members am
             JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
             WHERE am.member = r.oid ORDER BY g.rolname) AS member_of,
       pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY r.rolname
"""

# What the YAML cannot declare, as a role the YAML declares has it.
YAML_ROLE_EXTRAS: dict[str, Any] = {"superuser": False, "replication": False, "settings": ()}


def read_roles(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """Every role of the server but PostgreSQL's own (``pg_*``), as plain data (see role_from_data)."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows(conn, ROLES):
        found[row["name"]] = {
            "login": bool(row["rolcanlogin"]),
            "inherit": bool(row["rolinherit"]),
            "bypass_rls": bool(row["rolbypassrls"]),
            "create_role": bool(row["rolcreaterole"]),
            "create_db": bool(row["rolcreatedb"]),
            "connection_limit": None if row["rolconnlimit"] < 0 else row["rolconnlimit"],
            "member_of": list(row["member_of"]),
            "comment": row["comment"],
            "superuser": bool(row["rolsuper"]),
            "replication": bool(row["rolreplication"]),
            "settings": [list(pair) for pair in options(row["rolconfig"])],
        }
    return found


def role_from_data(name: str, data: Mapping[str, Any]) -> m.Role:
    return m.Role(
        name=name,
        login=bool(data["login"]),
        inherit=bool(data["inherit"]),
        bypass_rls=bool(data["bypass_rls"]),
        create_role=bool(data["create_role"]),
        create_db=bool(data["create_db"]),
        connection_limit=data["connection_limit"],
        member_of=tuple(sorted(data["member_of"])),
        comment=data["comment"],
        loc=CATALOG_LOCATION,
    )


def roles_model(data: Mapping[str, Mapping[str, Any]], names: Iterable[str]) -> CatalogModel:
    """The roles ``names`` of ``data`` (those that exist) as a model to compare."""
    out = CatalogModel()
    for name in names:
        if name in data:
            role = data[name]
            out.add(
                "role",
                name,
                role_from_data(name, role),
                superuser=role["superuser"],
                replication=role["replication"],
                settings=tuple(tuple(pair) for pair in role["settings"]),
            )
    return out


def declared_roles_model(roles: Iterable[m.Role]) -> CatalogModel:
    """The YAML's roles, normalised as the catalog reads them (memberships sorted)."""
    out = CatalogModel()
    for role in roles:
        normalised = m.Role(
            role.name,
            role.login,
            role.inherit,
            role.bypass_rls,
            role.create_role,
            role.create_db,
            role.connection_limit if role.connection_limit not in (None, -1) else None,
            tuple(sorted(set(role.member_of))),
            role.comment,
            role.loc,
        )
        out.add("role", role.name, normalised, **YAML_ROLE_EXTRAS)
    return out
