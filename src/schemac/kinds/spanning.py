"""The checks that span kinds, over what each kind declares: names and namespaces (E303,
E304), type names (E310) and grants (E320, E321)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import kinds
from schemac import model as m
from schemac.diagnostics import SourceLocation, did_you_mean
from schemac.naming import too_long
from schemac.privileges import PUBLIC
from schemac.sql.parse import SqlSyntaxError, parse_type_name
from schemac.types import base_type_name, is_builtin, known_type_names

if TYPE_CHECKING:
    from schemac.analyse import Analyser

Claim = tuple[str, SourceLocation | None]
_NODE_KINDS = tuple(k for k in kinds.KINDS if k.nodes is not None and k.field is not None)
_GRANT_HOLDERS = tuple(k for k in kinds.KINDS if k.privileges is not None and k.field)


class NameClaims:
    """The names objects take: per-schema namespaces (relations, types, functions) and every
    identifier, for clashes (E303) and lengths (E304)."""

    def __init__(self) -> None:
        self.names: list[Claim] = []
        self.spaces: dict[str, dict[tuple[str, str], list[Claim]]] = {
            "relations": {},
            "types": {},
            "functions": {},
        }

    def claim(self, space: str, qname: m.QName, what: str, loc: SourceLocation | None) -> None:
        self.spaces[space].setdefault((qname.schema, qname.name), []).append((what, loc))

    def name(self, name: str, loc: SourceLocation | None) -> None:
        self.names.append((name, loc))


def check_grants(a: Analyser) -> None:
    """Every grantee is a role; GRANT accepts only the privileges of the object's kind."""
    for kind in _GRANT_HOLDERS:
        assert kind.privileges is not None and kind.field is not None
        word, allowed = kind.privileges
        for _, holder in a.p.of(kind.field):
            name = getattr(holder, "qname", None) or holder.name
            for grant in holder.grants:
                _check_grant(a, grant, holder.loc, word, allowed, str(name))
            # a table's columns: GRANT privilege (column) takes column privileges only (a
            # view's `columns` are bare names, with no grants of their own)
            for column in _granted_columns(holder):
                for grant in column.grants:
                    where = f"{name}.{column.name}"
                    _check_grant(a, grant, column.loc, "column", m.COLUMN_PRIVILEGES, where)


def _granted_columns(holder: Any) -> tuple[m.Column | m.ColumnGrants, ...]:
    """A table's columns, a partition's `column_grants:` (a view has none of its own)."""
    if isinstance(holder, m.Table):
        return holder.columns
    if isinstance(holder, m.Partition):
        return holder.column_grants
    return ()


def _check_grant(
    a: Analyser,
    grant: m.Grant,
    loc: SourceLocation | None,
    word: str,
    allowed: tuple[str, ...] | frozenset[str],
    name: str,
) -> None:
    a.check_role(grant.role, grant.loc or loc)
    if grant.role == PUBLIC and grant.grant_option:
        a.error(
            "E321",
            f"public cannot hold a privilege with_grant_option ({name})",
            grant.loc or loc,
            hint="PostgreSQL gives grant options to roles only: name the role",
        )
    wrong = [p for p in grant.privileges if p not in allowed]
    if wrong:
        a.error(
            "E321",
            f"{', '.join(wrong)} cannot be granted on a {word} ({name})",
            grant.loc or loc,
            hint=f"a {word} takes: {', '.join(sorted(allowed))}",
        )


def check_names(a: Analyser) -> None:
    claims = NameClaims()
    for kind in _NODE_KINDS:
        if kind.names is not None:
            assert kind.field is not None
            for _, obj in a.p.of(kind.field):
                kind.names(a, obj, claims)
    for space_name, space in claims.spaces.items():
        for (schema_name, name), found in space.items():
            # A relation's row type clashes exactly when the relation does: report that once.
            if space_name == "types" and all("row type" in what for what, _ in found):
                continue
            _report_clashes(a, schema_name, name, found)
        for (_, name), found in space.items():
            claims.name(name, found[0][1])
    for name, loc in claims.names:
        if too_long(name):
            a.error(
                "E304",
                f"identifier {name!r} is {len(name.encode())} bytes; PostgreSQL allows 63",
                loc,
                hint="shorten it (PostgreSQL would silently truncate it)",
            )


def _report_clashes(a: Analyser, schema_name: str, name: str, found: list[Claim]) -> None:
    if len(found) < 2:
        return
    first_what, first_loc = found[0]
    for what, loc in found[1:]:
        where = f", line {first_loc.line} of {first_loc.path.name}" if first_loc else ""
        a.error(
            "E303",
            f"the name {schema_name}.{name} of this {what} is already taken ({first_what}{where})",
            loc,
            hint="PostgreSQL keeps these names in one namespace per schema; rename one",
        )


def check_types(a: Analyser) -> None:
    known = known_type_names(a.extensions)
    declared = set(a.type_keys)

    def check(type_text: str, loc: SourceLocation | None, schema: str) -> None:
        if _type_error(type_text):
            return  # not one type name: reported at its position (E310) already
        qname = qualified_type(type_text)
        if qname is not None:
            if qname.schema in a.schemas and qname not in declared:
                candidates = [q.name for q in declared if q.schema == qname.schema]
                a.error(
                    "E310",
                    f"unknown type {qname}",
                    loc,
                    hint=did_you_mean(qname.name, candidates),
                )
            return
        base = base_type_name(type_text)
        if base in ("setof", "table") or type_text.startswith(("TABLE", "SETOF")):
            return
        if not is_builtin(base, a.extensions):
            hint = did_you_mean(base, known | {q.name for q in declared if q.schema == schema})
            if hint is None and base == "citext":
                hint = "declare the extension: extensions: {citext: {}}"
            a.error("E310", f"unknown type '{base}'", loc, hint=hint)

    for kind in _NODE_KINDS:
        if kind.types is not None:
            assert kind.field is not None
            for _, obj in a.p.of(kind.field):
                for type_text, loc, schema in kind.types(obj):
                    check(type_text, loc, schema)


def _type_error(type_text: str) -> bool:
    try:
        parse_type_name(type_text.removeprefix("SETOF "))
    except SqlSyntaxError:
        return True
    return False


def qualified_type(type_text: str) -> m.QName | None:
    """The schema and name of a schema-qualified type (`"app"."mood"[]`), else None."""
    try:
        parsed = parse_type_name(type_text)
    except SqlSyntaxError:
        return None
    return m.QName(parsed.schema, parsed.name) if parsed.schema is not None else None
