"""`schemac import` of default privileges (kinds/default_privileges.py): the
`default_privileges:` sections, and the grants of the objects they reach written over them."""

from __future__ import annotations

from typing import Any

from schemac import model as m
from schemac.importer.yaml_writer import Block
from schemac.kinds.default_privileges import (
    CATALOG_KIND,
    OBJECT_TYPES,
    DefaultPrivileges,
)
from schemac.privileges import PUBLIC


def _applying(ctx: Any, schema: str | None, on: str) -> list[DefaultPrivileges]:
    """The migrations' role's default privileges that reach new ``on`` objects of ``schema``."""
    return [
        o
        for o in ctx.of(CATALOG_KIND).values()
        if o.for_role is None and o.on == on and o.schema in (None, schema)
    ]


def _item(item: str | dict[str, str]) -> str:
    """A YAML privilege item as one comparable text (``select*``: WITH GRANT OPTION)."""
    return item if isinstance(item, str) else f"{next(iter(item))}*"


def public_execute_by_default(ctx: Any, schema: str) -> bool:
    """Whether a routine created by the migrations gets PUBLIC's EXECUTE (no global default
    privilege revokes it)."""
    return not any(o.revoke_public for o in _applying(ctx, schema, "functions"))


def _given(ctx: Any, schema: str | None, on: str) -> dict[str, set[str]]:
    """What the migrations' role's default privileges give each role (PUBLIC too: ``public``)
    on a new ``on`` object of ``schema``: the global and the schema's entries together, as
    PostgreSQL adds them up. PUBLIC's built-in EXECUTE on functions is left to the routines'
    importer (``public_execute_by_default``)."""
    given: dict[str, set[str]] = {}
    for defaults in _applying(ctx, schema, on):
        for grant in defaults.grants:
            if grant.role == PUBLIC and on == "functions":
                continue
            given.setdefault(grant.role, set()).update(map(_item, m.grant_items(grant)))
    return given


def _over(grants: dict[str, list[Any]], given: dict[str, set[str]]) -> dict[str, list[Any]]:
    """An object's grants written over what the defaults give: a role holding exactly that
    (WITH GRANT OPTION included) is left to them; more or less, it is written in full (``[]``
    when it holds nothing: the compiled object revokes the defaults first, model.Grant's
    ``revoke_first``)."""
    for role, privileges in given.items():
        if set(map(_item, grants.get(role, ()))) == privileges:
            grants.pop(role, None)
        elif role not in grants:
            grants[role] = []
    return grants


def imported_over_defaults(
    ctx: Any, schema: str, on: str, objects: list[dict[str, Any]]
) -> set[str]:
    """Each imported object's grants as the YAML writes them where default privileges reach
    it (``_over``). Returns those roles, which stay on each object (not moved to the
    schema-wide ``*_grants``)."""
    given = _given(ctx, schema, on)
    for obj in objects:
        grants = _over(obj.get("grants", {}), given)
        if grants:
            obj["grants"] = grants
        else:
            obj.pop("grants", None)
    return set(given)


def schema_grants_over_defaults(
    ctx: Any, grants: dict[str, list[Any]], public_schema: bool
) -> dict[str, list[Any]]:
    """A schema's grants written over the global default privileges on schemas, which the
    compiled project gives every schema it declares (kinds/default_privileges.finish). The
    public schema's PUBLIC is its built-in USAGE, written by the caller."""
    given = _given(ctx, None, "schemas")
    if public_schema:
        given.pop(PUBLIC, None)
    return _over(grants, given)


def default_privilege_roles(ctx: Any, schemas: set[str]) -> set[str]:
    """The roles the imported default privileges name (FOR ROLE and grantees)."""
    found: set[str] = set()
    for obj in ctx.of(CATALOG_KIND).values():
        if obj.schema is None or obj.schema in schemas:
            found |= {g.role for g in obj.grants if g.role != PUBLIC}
            if obj.for_role:
                found.add(obj.for_role)
    return found


def import_entries(ctx: Any, schema: str | None) -> Any:
    """The `default_privileges:` of a schema document (or, schema None, the project's):
    a mapping, or a list of them when several roles have default privileges there."""
    by_role: dict[str | None, dict[str, Any]] = {}
    for obj in sorted(ctx.of(CATALOG_KIND).values(), key=lambda o: o.name):
        if obj.schema != schema:
            continue
        entry = by_role.setdefault(obj.for_role, {})
        grants: dict[str, list[Any]] = {}
        if obj.revoke_public:
            grants[PUBLIC] = []
        for grant in obj.grants:
            if grant.role != PUBLIC:
                ctx.names.check(f"role of default privileges {obj.name}", grant.role)
            if not (
                obj.schema is None
                and grant.role == PUBLIC
                and grant.privileges == (OBJECT_TYPES[obj.on][2],)
            ):
                grants[grant.role] = list(m.grant_items(grant))
        entry[obj.on] = grants
    found = []
    for role, entry in sorted(by_role.items(), key=lambda item: item[0] or ""):
        block = Block()
        if role is not None:
            ctx.names.check("for_role of default privileges", role)
            block["for_role"] = role
        for on in OBJECT_TYPES:
            if on in entry:
                block[on] = entry[on]
        found.append(block)
    if not found:
        return None
    return found[0] if len(found) == 1 else found
