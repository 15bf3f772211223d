"""Default privileges (`default_privileges:`): `ALTER DEFAULT PRIVILEGES [FOR ROLE r]
[IN SCHEMA s] GRANT ... ON TABLES | SEQUENCES | FUNCTIONS | TYPES | SCHEMAS TO ...`.

Declared in a schema document (IN SCHEMA that schema) or in a document without `schema:`
(every schema). The privileges are exact like an object's (schemac.privileges): what
pg_default_acl holds beyond the declaration is revoked by `diff` (supplements.py, from the
`default_privileges` facts), and PostgreSQL's built-in defaults (PUBLIC's EXECUTE on new
functions, USAGE on new types) are revoked project-wide with `public: []`. Without
`for_role:` the entries are those of the role that runs the migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION
from schemac.catalog.queries import rows
from schemac.diagnostics import SourceLocation
from schemac.kinds.registry import Comparison, Kind, Located, Reading
from schemac.naming import quote_ident
from schemac.node_keys import node_key
from schemac.privileges import PUBLIC, revokes_public_default
from schemac.project import is_plain_name
from schemac.sql.names import unquote

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.loader import Document, LocatedDict

SECTION = "default_privileges"
CATALOG_KIND = "default privileges"
CURRENT_USER = "(current user)"  # FOR ROLE left out: whoever runs the migrations

# What each `on:` takes (GRANT's privileges), pg_default_acl's letter, PUBLIC's built-in one.
OBJECT_TYPES: dict[str, tuple[frozenset[str], str, str | None]] = {
    "tables": (frozenset(m.TABLE_PRIVILEGES), "r", None),
    "sequences": (frozenset({"all", "usage", "select", "update"}), "S", None),
    "functions": (frozenset({"all", "execute"}), "f", "execute"),
    "types": (frozenset({"all", "usage"}), "T", "usage"),
    "schemas": (frozenset({"all", "usage", "create"}), "n", None),
}
_BY_LETTER = {letter: on for on, (_, letter, _) in OBJECT_TYPES.items()}


def letter_kind(letter: str) -> str:
    """pg_default_acl's ``defaclobjtype`` as the YAML names it (``r``: tables)."""
    return _BY_LETTER.get(letter, letter)


def built_in(schema: str | None, on: str) -> tuple[tuple[str, str, bool], ...]:
    """What PUBLIC holds on new objects when pg_default_acl has no entry (the facts' form)."""
    public_default = OBJECT_TYPES.get(on, (frozenset(), "", None))[2]
    if schema is None and public_default is not None:
        return (("PUBLIC", public_default.upper(), False),)
    return ()


def effective(identity: str, value: Any) -> Any:
    """A default privileges fact, its built-in value where pg_default_acl has no entry."""
    if value is not None:
        return value
    _, schema, on = parse_label(identity)
    return built_in(schema, on)


def statements(
    role: str | None, schema: str | None, on: str, current: Any, desired: Any
) -> list[str]:
    """The ALTER DEFAULT PRIVILEGES statements that turn ``current`` into ``desired`` (the
    facts of one label; None: no entry, PostgreSQL's built-in defaults)."""
    head = "ALTER DEFAULT PRIVILEGES"
    if role is not None:
        head += f" FOR ROLE {quote_ident(role)}"
    if schema is not None:
        head += f" IN SCHEMA {quote_ident(schema)}"
    have = {(g, p): o for g, p, o in (built_in(schema, on) if current is None else current)}
    want = {(g, p): o for g, p, o in (built_in(schema, on) if desired is None else desired)}
    out = []
    for grantee, privilege in sorted(set(have) | set(want)):
        had, wants = have.get((grantee, privilege)), want.get((grantee, privilege))
        if had == wants:
            continue
        if wants is None:
            out.append(f"{head} REVOKE {privilege} ON {on.upper()} FROM {grantee};")
        elif had is True and wants is False:
            out.append(
                f"{head} REVOKE GRANT OPTION FOR {privilege} ON {on.upper()} FROM {grantee};"
            )
        else:
            option = " WITH GRANT OPTION" if wants else ""
            out.append(f"{head} GRANT {privilege} ON {on.upper()} TO {grantee}{option};")
    return out


@dataclass(frozen=True)
class DefaultPrivileges:
    schema: str | None  # IN SCHEMA; None: every schema
    for_role: str | None  # FOR ROLE; None: the role running the migrations
    on: str  # tables | sequences | functions | types | schemas
    grants: tuple[m.Grant, ...]
    revoke_public: bool  # PUBLIC's built-in privilege on new objects revoked (every schema only)
    loc: SourceLocation = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return label(self.for_role, self.schema, self.on)

    @property
    def public_default(self) -> str | None:
        """What PostgreSQL grants PUBLIC on new objects of this type by itself."""
        return OBJECT_TYPES[self.on][2]


def label(for_role: str | None, schema: str | None, on: str) -> str:
    """``(current user) in app on tables``: the name in the catalog model and the facts."""
    role = _shown(for_role) if for_role else CURRENT_USER
    where = f" in {_shown(schema)}" if schema else ""
    return f"{role}{where} on {on}"


def _shown(name: str) -> str:
    return name if is_plain_name(name) else quote_ident(name)


def parse_label(text: str) -> tuple[str | None, str | None, str]:
    """The role, schema (unquoted; None: left out) and object type of a label."""
    rest, _, on = text.rpartition(" on ")
    role: str | None = None
    if rest.startswith(CURRENT_USER):
        rest = rest[len(CURRENT_USER) :]
    else:
        end = _name_end(rest)
        role, rest = unquote(rest[:end]), rest[end:]
    schema = unquote(rest.removeprefix(" in ")) if rest.startswith(" in ") else None
    return role, schema, on


def _name_end(text: str) -> int:
    """Where the first (possibly double-quoted) name of ``text`` ends."""
    if not text.startswith('"'):
        return text.find(" ") if " " in text else len(text)
    at = 1
    while at < len(text):
        if text[at] == '"':
            if text[at + 1 : at + 2] != '"':
                return at + 1
            at += 1
        at += 1
    return len(text)


def _entries(section: Any) -> Iterator[LocatedDict]:
    """The mapping, or each mapping of the list form (one per `for_role`)."""
    if isinstance(section, list):
        yield from section
    elif section:
        yield section


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    for entry in _entries(doc.data.get(SECTION)):
        for_role = entry.get("for_role")
        for on in OBJECT_TYPES:
            if on not in entry:
                continue
            grants = b.grants(entry[on])
            public_default = OBJECT_TYPES[on][2]
            revoke = public_default is not None and revokes_public_default(
                grants, public_default, definer=False, settings=b.settings.privileges
            )
            b.add(
                SECTION,
                u,
                DefaultPrivileges(schema, for_role, on, grants, revoke, entry.key_locations[on]),
            )


# The project fields whose objects default privileges reach, and the `on:` that reaches them.
_REACHED = (
    ("tables", "tables"),
    ("partitions", "tables"),  # PostgreSQL gives a partition the defaults as any table
    ("views", "tables"),
    ("sequences", "sequences"),
    ("functions", "functions"),
    ("schemas", "schemas"),
)


def finish(b: Builder) -> None:
    """What the migrations' role creates gets its default privileges from PostgreSQL; the YAML
    declares them once, so each object it creates holds them as declared grants too (rendered,
    so the ACL does not depend on whether the object is created before or after them)."""
    declared = [obj for _, obj in b.out[SECTION] if obj.for_role is None]
    if not declared:
        return
    for project_field, on in _REACHED:
        b.out[project_field] = [
            (u, _with_defaults(b, obj, [d for d in declared if d.on == on and _reaches(d, obj)]))
            for u, obj in b.out[project_field]
        ]
    b.out["tables"] = [
        (
            u,
            _with_sequence_defaults(
                b, t, [d for d in declared if d.on == "sequences" and _reaches(d, t)]
            ),
        )
        for u, t in b.out["tables"]
    ]


def _reaches(defaults: DefaultPrivileges, obj: Any) -> bool:
    schema = obj.name if isinstance(obj, m.Schema) else obj.qname.schema
    return defaults.schema is None or (defaults.schema == schema and not isinstance(obj, m.Schema))


def _merged(
    b: Builder, defaults: list[DefaultPrivileges], own: tuple[m.Grant, ...]
) -> tuple[m.Grant, ...]:
    """The defaults' grants, except for a role the object names itself: its own list (with
    the schema-wide grant) is then all that role holds on it (`role: []`: nothing)."""
    named = {g.role for g in own}
    merged = b.grants(
        *(
            {g.role: m.grant_items(g) for g in d.grants if g.privileges and g.role not in named}
            for d in defaults
        ),
        {g.role: m.grant_items(g) for g in own},
    )
    # PostgreSQL gives a role the defaults' privileges at CREATE whatever the object says, so
    # a role the object names itself loses them first (`role: []` then means nothing at all).
    given = {g.role for d in defaults for g in d.grants if g.privileges}
    return tuple(replace(g, revoke_first=True) if g.role in named & given else g for g in merged)


def _with_defaults(b: Builder, obj: Any, defaults: list[DefaultPrivileges]) -> Any:
    if not defaults:
        return obj
    grants = _merged(b, defaults, obj.grants)
    if isinstance(obj, m.Function):
        revoked = any(d.revoke_public for d in defaults)
        named = any(g.role == PUBLIC for g in obj.grants)
        return replace(
            obj, grants=grants, revoke_public=obj.revoke_public or (revoked and not named)
        )
    return replace(obj, grants=grants)


def _with_sequence_defaults(
    b: Builder, table: m.Table, defaults: list[DefaultPrivileges]
) -> m.Table:
    if not defaults or not table.serial_sequences:
        return table
    return replace(table, sequence_grants=_merged(b, defaults, table.sequence_grants))


def _nodes(obj: DefaultPrivileges) -> tuple[tuple[str, str], ...]:
    return (("default_privileges", node_key("default_privileges", obj.name)),)


def edges(a: Analyser, obj: DefaultPrivileges) -> set[str]:
    deps = a.grant_dependencies(obj.grants)
    if obj.for_role:
        deps |= a.role_dependency(obj.for_role)
    if obj.schema and node_key("schema", obj.schema) in a.nodes:
        deps.add(node_key("schema", obj.schema))
    return deps


def check(a: Analyser) -> None:
    for _, obj in a.p.of(SECTION):
        if obj.for_role:
            a.check_role(obj.for_role, obj.loc)
        allowed = OBJECT_TYPES[obj.on][0]
        for grant in obj.grants:
            a.check_role(grant.role, grant.loc or obj.loc)
            if obj.for_role and grant.role == obj.for_role:
                a.error(
                    "E321",
                    f"default privileges of {obj.for_role} granted to {obj.for_role}: a role "
                    "holds every privilege on what it creates; grant to another role",
                    grant.loc or obj.loc,
                )
            wrong = [p for p in grant.privileges if p not in allowed]
            if wrong:
                a.error(
                    "E321",
                    f"{', '.join(wrong)} cannot be granted on {obj.on} "
                    f"(default privileges {obj.name})",
                    grant.loc or obj.loc,
                )
        if obj.schema and obj.on == "schemas":
            a.error(
                "E321",
                "default privileges on schemas cannot be IN SCHEMA: declare "
                "them in a document without `schema:`",
                obj.loc,
            )
        if obj.schema and obj.revoke_public:
            a.error(
                "E321",
                f"PUBLIC's {OBJECT_TYPES[obj.on][2]} on new {obj.on} can only be revoked in every "
                "schema (PostgreSQL adds IN SCHEMA defaults to the global ones): declare "
                "`public: []` in a document without `schema:`",
                obj.loc,
            )


_DEFAULT_ACL = """
SELECT d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AS mine,
       pg_catalog.pg_get_userbyid(d.defaclrole) AS role,
       (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = d.defaclnamespace) AS schema,
       d.defaclobjtype AS type,
       (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_array(
                  CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                       ELSE pg_catalog.pg_get_userbyid(x.grantee) END,
                  x.privilege_type, x.is_grantable) ORDER BY 1, 2), '[]')
        FROM pg_catalog.aclexplode(d.defaclacl) x WHERE x.grantee <> d.defaclrole) AS acl
FROM pg_catalog.pg_default_acl d
ORDER BY 2, 3 NULLS FIRST, 4
"""


def read(conn: psycopg.Connection[Any], out: CatalogModel, reading: Reading) -> None:
    for row in rows(conn, _DEFAULT_ACL):
        on = _BY_LETTER.get(row["type"], row["type"])
        by_role: dict[str, set[str]] = {}
        grantable: dict[str, set[str]] = {}  # WITH GRANT OPTION: `{select: with_grant_option}`
        for grantee, privilege, option in row["acl"]:
            role = "public" if grantee == "PUBLIC" else grantee
            by_role.setdefault(role, set()).add(privilege.lower())
            if option:
                grantable.setdefault(role, set()).add(privilege.lower())
        grants = tuple(
            m.Grant(
                role,
                tuple(p for p in m.PRIVILEGE_ORDER if p in privileges),
                grant_option=tuple(p for p in m.PRIVILEGE_ORDER if p in grantable.get(role, ())),
            )
            for role, privileges in sorted(by_role.items())
        )
        public_default = OBJECT_TYPES.get(on, (frozenset(), "", None))[2]
        revoke = (
            row["schema"] is None
            and public_default is not None
            and public_default not in by_role.get(PUBLIC, set())
        )
        obj = DefaultPrivileges(
            row["schema"],
            None if row["mine"] else row["role"],
            on,
            grants,
            revoke,
            CATALOG_LOCATION,
        )
        out.add(CATALOG_KIND, obj.name, obj)


DEFAULT_PRIVILEGES = Kind(
    "default_privileges",
    field=SECTION,
    project_wide=True,
    build=build,
    finish=finish,
    nodes=_nodes,
    located=Located("default_privileges", ("default privileges",)),
    edges=edges,
    check=check,
    template="default_privileges",
    reader=read,
    comparison=Comparison((CATALOG_KIND,)),
)
