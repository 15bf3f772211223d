"""The catalog model cut into units: one YAML document per schema, in dependency order, plus
one document of project-wide objects (extensions and roles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemac import kinds
from schemac import model as m
from schemac.importer.context import Context
from schemac.importer.default_privileges import (
    default_privilege_roles,
    import_entries,
    imported_over_defaults,
    schema_grants_over_defaults,
)
from schemac.importer.external import role_is_external
from schemac.importer.extras import report_extras
from schemac.importer.routines import BodyFiles
from schemac.importer.tables import TABLE_MEMBERS
from schemac.importer.yaml_writer import Block
from schemac.kinds import Kind
from schemac.naming import file_safe

PUBLIC_SCHEMA = "public"
_PUBLIC_COMMENT = "standard public schema"
_PUBLIC_OWNER = "pg_database_owner"


@dataclass
class SchemaUnit:
    """One schema's document and the body files beside it; while it is written, what the
    catalog holds in the schema (``content``: catalog kind -> name -> object) and the members
    of each table (``by_table``: table -> catalog kind -> objects), which the kinds' import
    hooks read, and the schemas it depends on, which they add to."""

    schema: str
    document: dict[str, Any]
    bodies: BodyFiles
    depends_on: set[str] = field(default_factory=set)
    content: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_table: dict[str, dict[str, list[Any]]] = field(default_factory=dict)


def _schema_of(kind: str, name: str, obj: Any) -> str | None:
    """The schema an object of the catalog model belongs to (None: project-wide)."""
    declared = kinds.KIND_OF_CATALOG[kind]
    if declared.project_wide:
        return None
    if kind == "schema":
        return str(name)
    if declared.table_member:
        return str(obj.table.schema)
    return str(obj.qname.schema)


def schema_units(ctx: Context, wanted: set[str] | None) -> list[SchemaUnit]:
    """A unit per schema that holds something (or is not the untouched public schema)."""
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, objects in ctx.source.catalog.objects.items():
        for name, obj in objects.items():
            schema = _schema_of(kind, name, obj)
            if schema is not None:
                grouped.setdefault(schema, {}).setdefault(kind, {})[name] = obj
    units = []
    for schema in sorted(grouped):
        if wanted is not None and schema not in wanted:
            continue
        content = grouped[schema]
        if schema == PUBLIC_SCHEMA and _untouched_public(ctx, content):
            continue
        units.append(_unit(ctx, schema, content))
    names = {u.schema for u in units}
    for unit in units:
        unit.depends_on &= names - {unit.schema}
    return _ordered(units)


def _untouched_public(ctx: Context, content: dict[str, dict[str, Any]]) -> bool:
    if any(kind != "schema" and objects for kind, objects in content.items()):
        return False
    schema = ctx.of("schema").get(PUBLIC_SCHEMA)
    grants = ctx.grants("schema", PUBLIC_SCHEMA, schema.grants) if schema else {}
    # Untouched: PUBLIC's USAGE as PostgreSQL 15+ creates it; revoked, `grants: {public: []}`.
    return schema is None or (
        schema.comment in (None, _PUBLIC_COMMENT) and grants == {"public": ["usage"]}
    )


def _by_table(content: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for kind in TABLE_MEMBERS:
        for obj in content.get(kind, {}).values():
            out.setdefault(obj.table.label, {}).setdefault(kind, []).append(obj)
    for partition in content.get("partition", {}).values():
        out.setdefault(partition.parent.label, {}).setdefault("partition", []).append(partition)
    return out


def _unit(ctx: Context, schema: str, content: dict[str, dict[str, Any]]) -> SchemaUnit:
    ctx.names.check("schema", schema)
    doc: dict[str, Any] = {"schema": schema}
    unit = SchemaUnit(
        schema, doc, BodyFiles(file_safe(schema)), content=content, by_table=_by_table(content)
    )
    declared = ctx.of("schema").get(schema)
    if declared is not None:
        _schema_header(ctx, declared, doc)
    defaults = import_entries(ctx, schema)  # kinds/default_privileges.py
    if defaults:
        doc["default_privileges"] = defaults
    ctx.by_relation = unit.by_table
    sections = _kind_sections(ctx, unit)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for kind, blocks in sections:
        if kind.grants_section is not None:
            objects = grouped.setdefault(kind.grants_section, [])
            objects.extend(obj for block in blocks.values() for obj in block.values())
    for key, objects in grouped.items():
        on = f"{key.removesuffix('_grants')}s"  # table_grants: the defaults on tables
        kept = imported_over_defaults(ctx, schema, on, objects)  # kinds/default_privileges.py
        common = _common_grants(objects, kept)
        if common:
            doc[key] = common
    for _, blocks in sections:
        doc.update((key, block) for key, block in blocks.items() if block)
    return unit


def _kind_sections(ctx: Context, unit: SchemaUnit) -> list[tuple[Kind, dict[str, Any]]]:
    """Each kind's sections of the unit, in registry order; routines (the kinds with bodies)
    last, where their long bodies do not push the declarations apart."""
    found = []
    for kind in sorted(kinds.KINDS, key=lambda k: k.dollar is not None):
        if kind.import_unit is not None:
            found.append((kind, dict(kind.import_unit(ctx, unit))))
        elif kind.import_yaml is not None and not kind.project_wide:  # those: project_document
            found.append((kind, _declared_sections(ctx, kind, unit.content)))
    return found


def _declared_sections(
    ctx: Context, kind: Kind, content: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The objects of a kind imported one by one (`Kind.import_yaml`): the objects of its n-th
    catalog kind go to its n-th section."""
    assert kind.import_yaml is not None
    found: dict[str, Any] = {}
    for catalog_kind, key in zip(kind.comparison.catalog_kinds, kind.sections, strict=False):
        objects = sorted(content.get(catalog_kind, {}).values(), key=_by_name)
        found[key] = {o.qname.name: kind.import_yaml(ctx, o) for o in objects}
    return found


def _by_name(obj: Any) -> str:
    return str(obj.qname.name)


def _common_grants(objects: list[dict[str, Any]], kept: set[str]) -> dict[str, list[str]]:
    """What every object of a kind grants, moved to the schema-wide ``*_grants`` (the YAML
    adds it back to each object, so the privileges stay exactly the same)."""
    if len(objects) < 2:
        return {}
    common: dict[str, list[str]] = {}
    first = objects[0].get("grants", {})
    for role, privileges in first.items():
        if role in kept:  # default privileges give it: each object says what it holds
            continue
        shared = [
            p for p in privileges if all(p in o.get("grants", {}).get(role, ()) for o in objects)
        ]
        if shared:
            common[role] = shared
    for obj in objects:
        grants = obj.get("grants", {})
        for role, shared in common.items():
            left = [p for p in grants[role] if p not in shared]
            if left:
                grants[role] = left
            else:
                del grants[role]
        if "grants" in obj and not grants:
            del obj["grants"]
    return common


def _schema_header(ctx: Context, declared: m.Schema, doc: dict[str, Any]) -> None:
    public = declared.name == PUBLIC_SCHEMA
    if declared.comment is not None and not (public and declared.comment == _PUBLIC_COMMENT):
        doc["comment"] = declared.comment
    elif public and declared.comment is None:
        ctx.notes.lost(
            "schema", PUBLIC_SCHEMA, "comment", "the public schema's comment was removed"
        )
    owner = declared.owner
    if owner and owner != ctx.source.current_user and not (public and owner == _PUBLIC_OWNER):
        ctx.names.check(f"owner of schema {declared.name}", owner)
        doc["owner"] = owner
    grants = ctx.grants("schema", declared.name, declared.grants)
    grants = schema_grants_over_defaults(ctx, grants, public)  # kinds/default_privileges.py
    if public:
        # PUBLIC's built-in USAGE is not written; PUBLIC named says all it holds, so USAGE
        # revoked is `public: []` and more than USAGE is the whole list (schemac.privileges).
        if grants.get("public") == ["usage"]:
            del grants["public"]
        elif "public" not in grants:
            grants = {"public": [], **grants}
    if grants:
        doc["grants"] = grants
    report_extras(
        ctx.source.catalog,
        "schema",
        declared.name,
        ctx.notes,
        ctx.source.current_user,
        frozenset({"owner"}),
    )


def _ordered(units: list[SchemaUnit]) -> list[SchemaUnit]:
    """Dependencies first; ties (and cycles, which compile reports) by schema name."""
    done: list[SchemaUnit] = []
    placed: set[str] = set()
    pending = sorted(units, key=lambda u: u.schema)
    while pending:
        ready = next((u for u in pending if u.depends_on <= placed), pending[0])
        pending.remove(ready)
        done.append(ready)
        placed.add(ready.schema)
    return done


def project_document(
    ctx: Context, units: list[SchemaUnit], limited: bool = False
) -> dict[str, Any]:
    """Extensions and the roles the imported objects name, with what they are members of."""
    doc: dict[str, Any] = {}
    extensions: dict[str, Any] = {}
    for name, extension in sorted(ctx.of("extension").items()):
        ctx.names.check("extension", name)
        default_version, default_comment = ctx.source.extension_defaults.get(name, (None, None))
        item: dict[str, Any] = {}
        if extension.schema:
            item["schema"] = extension.schema
        if extension.version and extension.version != default_version:
            item["version"] = extension.version
        if extension.comment is not None and extension.comment != default_comment:
            item["comment"] = extension.comment
        extensions[name] = item
        report_extras(ctx.source.catalog, "extension", name, ctx.notes, ctx.source.current_user)
    if extensions:
        doc["extensions"] = extensions
    defaults = import_entries(ctx, None)  # kinds/default_privileges.py
    if defaults:
        doc["default_privileges"] = defaults
    named = _named_roles(units) | default_privilege_roles(ctx, {u.schema for u in units})
    roles, external = _roles(ctx, named, limited)
    if roles:
        doc["roles"] = roles
    if external:
        doc["external"] = {"roles": external}
    doc.update(_project_wide_sections(ctx, {u.schema for u in units}))
    return doc


def _project_wide_sections(ctx: Context, schemas: set[str]) -> dict[str, Any]:
    """Project-wide kinds that say how they are imported (publications): those whose tables
    and schemas are all imported; any other is a loss naming it."""
    found: dict[str, Any] = {}
    for kind in kinds.KINDS:
        if kind.import_yaml is None or not kind.project_wide or kind.field is None:
            continue
        section = {}
        for catalog_kind in kind.comparison.catalog_kinds:
            for name, obj in sorted(ctx.of(catalog_kind).items()):
                named = {t.table.schema for t in getattr(obj, "tables", ())}
                outside = sorted((named | set(getattr(obj, "schemas", ()))) - schemas)
                if outside:
                    detail = f"it publishes from schemas not imported: {', '.join(outside)}"
                    ctx.notes.lost(catalog_kind, name, "the whole object", detail)
                    continue
                section[name] = kind.import_yaml(ctx, obj)
        if section:
            found[kind.field] = section
    return found


def _named_roles(units: list[SchemaUnit]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if key == "grants":
                    found.add(str(k))
                walk(v, str(k))
        elif isinstance(value, list):
            if key == "roles":
                found.update(str(v) for v in value)
            for item in value:
                walk(item, key)
        elif key == "owner" and isinstance(value, str):
            found.add(value)

    for unit in units:
        walk(unit.document, None)
    found.discard("public")
    return found


def _roles(ctx: Context, named: set[str], limited: bool) -> tuple[Block, list[str]]:
    """The roles to create, and those written as external (importer/external.py)."""
    data = ctx.source.roles
    queue = sorted(named)
    wanted: set[str] = set()
    external: list[str] = []
    while queue:
        role = queue.pop()
        if role in wanted or role.startswith("pg_") or role == ctx.source.current_user:
            continue
        wanted.add(role)
        found = data.get(role)
        if found is not None and role_is_external(ctx, found, limited):
            external.append(role)  # its memberships are the server's, not the project's
        else:
            queue.extend(data.get(role, {}).get("member_of", []))
    out = Block()
    for role in sorted(wanted):
        found = data.get(role)
        if found is None:
            ctx.names.refused.append(f"role {role}: named but not found on the server")
            continue
        ctx.names.check("role", role)
        if role in external:
            continue
        item: dict[str, Any] = {"login": found["login"]}
        for key in ("bypass_rls", "create_role", "create_db"):
            if found[key]:
                item[key] = True
        if not found["inherit"]:
            item["inherit"] = False
        if found["connection_limit"] is not None:
            item["connection_limit"] = found["connection_limit"]
        parents = sorted(p for p in found["member_of"] if p != ctx.source.current_user)
        if len(parents) != len(found["member_of"]):
            detail = (
                f"member of {ctx.source.current_user}, the importing role, which is not declared"
            )
            ctx.notes.lost("role", role, "member of", detail)
        if parents:
            item["member_of"] = parents
        if found["comment"] is not None:
            item["comment"] = found["comment"]
        for attribute in ("superuser", "replication"):
            if found[attribute]:
                ctx.notes.lost("role", role, attribute, "the YAML creates roles without it")
        if found["settings"]:
            ctx.notes.lost("role", role, "settings", repr(found["settings"]))
        out[role] = item
    return out, sorted(external)


# The catalog kinds the YAML cannot declare (kinds without a project field): never written.
UNDECLARABLE = tuple(c for k in kinds.KINDS if k.field is None for c in k.comparison.catalog_kinds)


def imported_counts(
    ctx: Context, units: list[SchemaUnit], project: dict[str, Any]
) -> dict[str, int]:
    """Objects written per kind (the kinds of the catalog model, in its order)."""
    schemas = {u.schema for u in units}
    counts: dict[str, int] = {}
    for kind, objects in ctx.source.catalog.objects.items():
        if kind == "role" or kind in UNDECLARABLE:
            continue
        if kind == "extension":
            found = len(project.get("extensions", {}))
        elif kind == "publication":
            found = len(project.get("publications", {}))
        else:
            found = sum(1 for n, o in objects.items() if _schema_of(kind, n, o) in schemas)
        if found:
            counts[kind] = found
    if project.get("roles"):
        counts = {"role": len(project["roles"]), **counts}
    return counts
