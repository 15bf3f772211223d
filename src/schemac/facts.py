"""Facts: what migra does not diff, read from the catalogs themselves and compared.

migra leaves out comments, privileges other than on tables, view options (security_invoker,
security_barrier, check_option), FORCE ROW LEVEL SECURITY, domains, sequence parameters and
schema owners; policies it only drops and recreates. schemac reads each of these as a *fact*
(one value per object, named the way ``pg_identify_object`` names it, so two databases compare
by name, not by oid) and compares the facts of two databases; ``supplements.py`` writes the
statements that make one like the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

# Objects PostgreSQL itself creates have oids below this; they are the same in every database.
FIRST_USER_OID = 16384

_USER_NAMESPACE = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
)


def _not_extension_member(classid: str, objid: str) -> str:
    return (
        f"NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = {classid} "
        f"AND e.objid = {objid} AND e.deptype = 'e')"
    )


@dataclass(frozen=True, order=True)
class FactKey:
    """One property of one object: ``category`` is what is compared, kind and identity name the object."""

    category: str  # comment | privileges | view_options | row_security | policy | sequence | domain | schema_owner
    kind: str  # pg_identify_object's type: table, view, function, schema, policy, ...
    identity: (
        str  # pg_identify_object's identity, quoted where needed: core.users, touch on core.users
    )

    @property
    def label(self) -> str:
        return f"{self.kind} {self.identity}"


Facts = dict[FactKey, Any]


@dataclass(frozen=True)
class FactDifference:
    key: FactKey
    current: Any  # None: the object has no such fact (absent, or no comment, ...)
    desired: Any

    def describe(self) -> str:
        """``<object>: <what differs>``, with the values where they are short enough to read."""
        return f"{self.key.label}: {self.detail()}"

    def detail(self) -> str:
        category, current, desired = self.key.category, self.current, self.desired
        if category == "comment":
            return f"comment is {_shown(current)}, the YAML says {_shown(desired)}"
        if category == "default_privileges":  # no entry: PostgreSQL's built-in defaults
            from schemac.kinds.default_privileges import effective

            current = effective(self.key.identity, current)
            desired = effective(self.key.identity, desired)
        if category in ("privileges", "default_privileges"):
            have = {(role, privilege) for role, privilege, _ in current or ()}
            want = {(role, privilege) for role, privilege, _ in desired or ()}
            parts = []
            if want - have:
                parts.append("missing " + ", ".join(f"{p} to {r}" for r, p in sorted(want - have)))
            if have - want:
                parts.append(
                    "not declared " + ", ".join(f"{p} to {r}" for r, p in sorted(have - want))
                )
            return "privileges: " + ("; ".join(parts) or "grant options differ")
        if category == "view_options":
            return f"options ({', '.join(current or ()) or 'none'}), the YAML says ({', '.join(desired or ()) or 'none'})"
        if category == "row_security":
            return f"row level security {_rls(current)}, the YAML says {_rls(desired)}"
        if category == "schema_owner":
            return f"owner is {current}, the YAML says {desired}"
        what = _CATEGORY_TITLES.get(category, category)
        if current is None:
            return f"{what} missing"
        if desired is None:
            return f"{what} not declared in the YAML"
        return f"{what} differs from the YAML"


def _shown(text: str | None) -> str:
    if text is None:
        return "none"
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _rls(state: tuple[bool, bool] | None) -> str:
    enabled, forced = state or (False, False)
    return ("enabled" if enabled else "disabled") + (" and forced" if forced else "")


_CATEGORY_TITLES = {
    "comment": "comment",
    "privileges": "privileges",
    "view_options": "view options",
    "row_security": "row level security",
    "policy": "policy",
    "sequence": "sequence parameters",
    "domain": "domain",
    "schema_owner": "owner",
    "default_privileges": "default privileges",
}


# -- reading --------------------------------------------------------------------------------------


def read_facts(conn: psycopg.Connection[Any], *, skip_relations: Iterable[str] = ()) -> Facts:
    """Every fact of the user objects in the connected database (extension members excluded).

    ``skip_relations`` are unqualified relation names left out (e.g. Flyway's history table).
    """
    skipped = sorted(set(skip_relations))
    facts: Facts = {}
    for reader in (
        _comments,
        _privileges,
        _relation_options,
        _policies,
        _sequences,
        _domains,
        _schema_owners,
        _default_privileges,
    ):
        facts.update(reader(conn, skipped))
    return facts


def _rows(
    conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] | None = None
) -> list[tuple[Any, ...]]:
    return list(conn.execute(query, params).fetchall())


def _comments(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    rows = _rows(
        conn,
        f"""
        SELECT o.type, o.identity, d.description
        FROM pg_catalog.pg_description d
        CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) o
        WHERE d.objoid >= {FIRST_USER_OID}
          AND (o.schema IS NULL OR (o.schema NOT IN ('pg_catalog', 'information_schema')
               AND o.schema !~ '^pg_(toast|temp_)'))
          AND {_not_extension_member("d.classoid", "d.objoid")}
          AND NOT (d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = d.objoid) = ANY(%s))
    """,
        (skipped,),
    )
    return {FactKey("comment", kind, identity): text for kind, identity, text in rows}


# An ACL entry's grantee as GRANT names it: PUBLIC, or the role's name quoted where needed.
_GRANTEE = (
    "CASE WHEN acl.grantee = 0 THEN 'PUBLIC' "
    "ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(acl.grantee)) END"
)


def _privileges(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    # The owner's own privileges are left out: whoever runs the migrations owns the objects, so
    # they differ from server to server, and schemac never grants or revokes them.
    grantee = _GRANTEE
    rows = _rows(
        conn,
        f"""
        SELECT o.type, o.identity, {grantee}, acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(c.relacl,
            pg_catalog.acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0) o
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_NAMESPACE}
          AND c.oid >= {FIRST_USER_OID} AND acl.grantee <> c.relowner AND NOT (c.relname = ANY(%s))
          AND {_not_extension_member("'pg_catalog.pg_class'::pg_catalog.regclass", "c.oid")}
        UNION ALL
        SELECT o.type, o.identity, {grantee}, acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, a.attnum) o
        WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER_NAMESPACE}
          AND c.oid >= {FIRST_USER_OID} AND acl.grantee <> c.relowner AND NOT (c.relname = ANY(%s))
          AND {_not_extension_member("'pg_catalog.pg_class'::pg_catalog.regclass", "c.oid")}
        UNION ALL
        SELECT o.type, o.identity, {grantee}, acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_namespace n
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner))) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_namespace'::pg_catalog.regclass, n.oid, 0) o
        WHERE {_USER_NAMESPACE} AND acl.grantee <> n.nspowner
          AND {_not_extension_member("'pg_catalog.pg_namespace'::pg_catalog.regclass", "n.oid")}
        UNION ALL
        SELECT o.type, o.identity, {grantee}, acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner))) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0) o
        WHERE {_USER_NAMESPACE} AND p.oid >= {FIRST_USER_OID} AND acl.grantee <> p.proowner
          AND {_not_extension_member("'pg_catalog.pg_proc'::pg_catalog.regclass", "p.oid")}
        UNION ALL
        SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE o.type END, o.identity, {grantee},
               acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(t.typacl, pg_catalog.acldefault('T'::"char", t.typowner))) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0) o
        WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind
                   FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
          AND {_USER_NAMESPACE} AND t.oid >= {FIRST_USER_OID}
          AND acl.grantee <> t.typowner
          AND {_not_extension_member("'pg_catalog.pg_type'::pg_catalog.regclass", "t.oid")}
        UNION ALL
        -- what applies to a range's multirange: its own ACL before PostgreSQL 17, the range's
        -- from 17 (kinds/ranges.py), so the facts of servers of either kind compare
        SELECT 'multirange type', o.identity, {grantee}, acl.privilege_type, acl.is_grantable
        FROM pg_catalog.pg_range r
        JOIN pg_catalog.pg_type t ON t.oid = r.rngmultitypid
        JOIN pg_catalog.pg_type rt ON rt.oid = r.rngtypid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(CASE WHEN pg_catalog.current_setting(
            'server_version_num')::integer < 170000 THEN t.typacl ELSE rt.typacl END,
            pg_catalog.acldefault('T'::"char", t.typowner))) acl
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0) o
        WHERE {_USER_NAMESPACE} AND t.oid >= {FIRST_USER_OID} AND acl.grantee <> t.typowner
          AND {_not_extension_member("'pg_catalog.pg_type'::pg_catalog.regclass", "rt.oid")}
    """,
        (skipped, skipped),
    )
    grouped: dict[FactKey, set[tuple[str, str, bool]]] = {}
    for kind, identity, role, privilege, grantable in rows:
        grouped.setdefault(FactKey("privileges", kind, identity), set()).add(
            (role, privilege, grantable)
        )
    return {key: tuple(sorted(value)) for key, value in grouped.items()}


def _default_privileges(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    """ALTER DEFAULT PRIVILEGES, one fact per role, schema and object type (the role's own
    privileges left out, as for objects); named as kinds/default_privileges.py labels them."""
    from schemac.kinds.default_privileges import label, letter_kind

    grantee = _GRANTEE
    rows = _rows(
        conn,
        f"""
        SELECT CASE WHEN d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
                    THEN NULL ELSE pg_catalog.pg_get_userbyid(d.defaclrole) END,
               (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = d.defaclnamespace),
               d.defaclobjtype::text,
               ARRAY(SELECT ARRAY[{grantee}, acl.privilege_type, acl.is_grantable::text]
                     FROM pg_catalog.aclexplode(d.defaclacl) acl
                     WHERE acl.grantee <> d.defaclrole ORDER BY 1)
        FROM pg_catalog.pg_default_acl d
    """,
    )
    return {
        FactKey(
            "default_privileges", "default privileges", label(role, schema, letter_kind(letter))
        ): tuple((g, p, o == "true") for g, p, o in entries)
        for role, schema, letter, entries in rows
    }


def _relation_options(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    rows = _rows(
        conn,
        f"""
        SELECT o.type, o.identity, c.relkind, coalesce(c.reloptions, '{{}}'), c.relrowsecurity, c.relforcerowsecurity
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0) o
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {_USER_NAMESPACE} AND c.oid >= {FIRST_USER_OID}
          AND NOT (c.relname = ANY(%s))
          AND {_not_extension_member("'pg_catalog.pg_class'::pg_catalog.regclass", "c.oid")}
    """,
        (skipped,),
    )
    facts: Facts = {}
    for kind, identity, relkind, options, rls, force in rows:
        if relkind in ("v", "m"):
            if options:
                facts[FactKey("view_options", kind, identity)] = tuple(sorted(options))
        elif rls or force:
            facts[FactKey("row_security", kind, identity)] = (bool(rls), bool(force))
    return facts


_POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def _policies(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    rows = _rows(
        conn,
        f"""
        SELECT o.identity, pg_catalog.quote_ident(p.polname), t.identity, p.polpermissive, p.polcmd,
               ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC'
                                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END
                     FROM unnest(p.polroles) r ORDER BY 1),
               pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
        FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_policy'::pg_catalog.regclass, p.oid, 0) o
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0) t
        WHERE {_USER_NAMESPACE} AND NOT (c.relname = ANY(%s))
    """,
        (skipped,),
    )
    return {
        FactKey("policy", "policy", identity): (
            name,
            table,
            bool(permissive),
            _POLICY_COMMANDS[cmd],
            tuple(roles),
            using,
            check,
        )
        for identity, name, table, permissive, cmd, roles, using, check in rows
    }


def _sequences(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    # Identity sequences belong to their column (migra diffs identity columns); left out here.
    rows = _rows(
        conn,
        f"""
        SELECT o.identity, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
               s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
               (SELECT t.identity || '.' || pg_catalog.quote_ident(a.attname)
                FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, d.refobjid, 0) t
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                  AND d.deptype = 'a' AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass)
        FROM pg_catalog.pg_sequence s
        JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0) o
        WHERE {_USER_NAMESPACE} AND NOT (c.relname = ANY(%s))
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid = c.oid AND d.deptype = 'i')
          AND {_not_extension_member("'pg_catalog.pg_class'::pg_catalog.regclass", "c.oid")}
    """,
        (skipped,),
    )
    return {FactKey("sequence", "sequence", identity): tuple(rest) for identity, *rest in rows}


def _domains(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    rows = _rows(
        conn,
        f"""
        SELECT o.identity, pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
               CASE WHEN t.typcollation <> 0 AND t.typcollation IS DISTINCT FROM b.typcollation
                    THEN (SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
                          FROM pg_catalog.pg_collation co
                          JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                          WHERE co.oid = t.typcollation) END,
               ARRAY(SELECT ARRAY[pg_catalog.quote_ident(k.conname), pg_catalog.pg_get_constraintdef(k.oid)]
                     FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'
                     ORDER BY k.conname)
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0) o
        WHERE t.typtype = 'd' AND {_USER_NAMESPACE} AND t.oid >= {FIRST_USER_OID}
          AND {_not_extension_member("'pg_catalog.pg_type'::pg_catalog.regclass", "t.oid")}
    """,
    )
    return {
        FactKey("domain", "domain", identity): (
            base,
            bool(not_null),
            default,
            collation,
            tuple((name, definition) for name, definition in checks),
        )
        for identity, base, not_null, default, collation, checks in rows
    }


def _schema_owners(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    rows = _rows(
        conn,
        f"""
        SELECT pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(n.nspowner))
        FROM pg_catalog.pg_namespace n
        WHERE {_USER_NAMESPACE} AND n.oid >= {FIRST_USER_OID}
          AND {_not_extension_member("'pg_catalog.pg_namespace'::pg_catalog.regclass", "n.oid")}
    """,
    )
    return {FactKey("schema_owner", "schema", name): owner for name, owner in rows}


def read_enums(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """Labels of every user enum, in order, by qualified (quoted) name."""
    rows = _rows(
        conn,
        f"""
        SELECT o.identity, ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid
                                 ORDER BY e.enumsortorder)
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        CROSS JOIN LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0) o
        WHERE t.typtype = 'e' AND {_USER_NAMESPACE}
          AND {_not_extension_member("'pg_catalog.pg_type'::pg_catalog.regclass", "t.oid")}
    """,
    )
    return {identity: tuple(labels) for identity, labels in rows}


# -- comparing ------------------------------------------------------------------------------------


def compare_facts(
    current: Facts, desired: Facts, ignore: Callable[[FactKey], bool] | None = None
) -> list[FactDifference]:
    """Facts that differ, in a stable order; ``ignore`` drops keys the caller does not manage."""
    differences = []
    for key in sorted(set(current) | set(desired)):
        if ignore is not None and ignore(key):
            continue
        before, after = current.get(key), desired.get(key)
        if before != after:
            differences.append(FactDifference(key, before, after))
    return differences
