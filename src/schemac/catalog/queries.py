"""SQL pieces every catalog reader shares: which objects are the user's, ACLs, comments.

Each reader runs one query per kind over all objects (never one per object), so reading a
database of 1,000 tables costs about as many round trips as reading one of ten.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from schemac.model import PRIVILEGE_ORDER, Grant

USER_NAMESPACE = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
)

# The grantee that owns the object, whoever that is on this server: the owner's own
# privileges are part of the ACL, but the owner's name differs between a shadow server and a
# production one, and schemac never grants to it by name.
OWNER = "(owner)"


def not_extension_member(catalog: str, oid: str) -> str:
    """Objects an extension created are the extension's, not the user's (pg_depend 'e')."""
    return (
        "NOT EXISTS (SELECT FROM pg_catalog.pg_depend e "
        f"WHERE e.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass "
        f"AND e.objid = {oid} AND e.deptype = 'e')"
    )


def acl(column: str, default_kind: str, owner: str) -> str:
    """A JSON array of [grantee, privilege, grantable] for an ACL column, defaults included."""
    return (
        "(SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_array("
        "CASE WHEN x.grantee = 0 THEN 'PUBLIC' "
        f"WHEN x.grantee = {owner} THEN '{OWNER}' "
        "ELSE pg_catalog.pg_get_userbyid(x.grantee) END, "
        "x.privilege_type, x.is_grantable) "
        "ORDER BY 1), '[]') "
        f"FROM pg_catalog.aclexplode(coalesce({column}, "
        f"pg_catalog.acldefault('{default_kind}'::\"char\", {owner}))) x)"
    )


def comment(catalog: str, oid: str, subid: str = "0") -> str:
    return (
        "(SELECT d.description FROM pg_catalog.pg_description d "
        f"WHERE d.classoid = 'pg_catalog.{catalog}'::pg_catalog.regclass "
        f"AND d.objoid = {oid} AND d.objsubid = {subid})"
    )


def rows(
    conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] | None = None
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return list(cursor.execute(query, params).fetchall())


def acl_entries(raw: list[list[Any]]) -> tuple[tuple[str, str, bool], ...]:
    """The ACL as sorted (grantee, privilege, grantable) triples."""
    return tuple(sorted((str(g), str(p), bool(o)) for g, p, o in raw))


def grants_of(entries: tuple[tuple[str, str, bool], ...]) -> tuple[Grant, ...]:
    """The model's grants: privileges of every grantee but the owner, in GRANT's order."""
    by_role: dict[str, set[str]] = {}
    grantable: dict[str, set[str]] = {}
    for grantee, privilege, option in entries:
        if grantee != OWNER:
            by_role.setdefault(grantee, set()).add(privilege.lower())
            if option:
                grantable.setdefault(grantee, set()).add(privilege.lower())
    return tuple(
        Grant(
            role,
            tuple(p for p in PRIVILEGE_ORDER if p in privileges),
            grant_option=tuple(p for p in PRIVILEGE_ORDER if p in grantable.get(role, ())),
        )
        for role, privileges in sorted(by_role.items())
    )


def options(raw: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``reloptions`` / ``proconfig`` entries (``name=value``) as sorted pairs."""
    pairs = []
    for entry in raw or ():
        name, _, value = entry.partition("=")
        pairs.append((name, value))
    return tuple(sorted(pairs))
