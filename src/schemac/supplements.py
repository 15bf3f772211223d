"""What migra does not diff, compared from the catalogs themselves.

migra leaves out comments, privileges other than on tables, view options (security_invoker,
security_barrier, check_option), FORCE ROW LEVEL SECURITY, domains, sequence parameters and
schema owners; policies it only drops and recreates. schemac reads each of these as a *fact*
(one value per object, named the way ``pg_identify_object`` names it, so two databases compare
by name, not by oid), compares the facts of two databases and writes the statements that make
one like the other. A difference it cannot express becomes an *unresolved* difference, which
the caller reports by name: nothing is skipped in silence.
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
        if category == "privileges":
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


def _privileges(conn: psycopg.Connection[Any], skipped: list[str]) -> Facts:
    # The owner's own privileges are left out: whoever runs the migrations owns the objects, so
    # they differ from server to server, and schemac never grants or revokes them.
    grantee = (
        "CASE WHEN acl.grantee = 0 THEN 'PUBLIC' "
        "ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(acl.grantee)) END"
    )
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
        WHERE t.typtype IN ('e', 'd', 'r') AND {_USER_NAMESPACE} AND t.oid >= {FIRST_USER_OID}
          AND acl.grantee <> t.typowner
          AND {_not_extension_member("'pg_catalog.pg_type'::pg_catalog.regclass", "t.oid")}
    """,
        (skipped,),
    )
    grouped: dict[FactKey, set[tuple[str, str, bool]]] = {}
    for kind, identity, role, privilege, grantable in rows:
        grouped.setdefault(FactKey("privileges", kind, identity), set()).add(
            (role, privilege, grantable)
        )
    return {key: tuple(sorted(value)) for key, value in grouped.items()}


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


# -- statements -----------------------------------------------------------------------------------


@dataclass
class Supplement:
    statements: list[str]
    unresolved: list[tuple[FactDifference, str]]  # the difference and why schemac cannot write it
    destructive: list[tuple[str, str]]  # (statement, why it loses data)


def literal(text: str) -> str:
    """A standard-conforming SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def supplement_statements(differences: list[FactDifference]) -> Supplement:
    """Statements that turn the current facts into the desired ones, in a safe order."""
    result = Supplement([], [], [])
    # Domains first (tables may use new ones), comments and privileges last (objects exist by then).
    order = [
        "domain",
        "schema_owner",
        "sequence",
        "row_security",
        "policy",
        "view_options",
        "privileges",
        "comment",
    ]
    for difference in sorted(
        differences,
        key=lambda d: (
            order.index(d.key.category) if d.key.category in order else len(order),
            d.key,
        ),
    ):
        writer = _WRITERS.get(difference.key.category)
        if writer is None:
            result.unresolved.append((difference, "schemac cannot write this kind of change"))
            continue
        writer(difference, result)
    return result


_COMMENT_TARGETS = {
    "table": "TABLE",
    "view": "VIEW",
    "materialized view": "MATERIALIZED VIEW",
    "index": "INDEX",
    "sequence": "SEQUENCE",
    "foreign table": "FOREIGN TABLE",
    "table column": "COLUMN",
    "view column": "COLUMN",
    "materialized view column": "COLUMN",
    "foreign table column": "COLUMN",
    "type": "TYPE",
    "domain": "DOMAIN",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "aggregate": "AGGREGATE",
    "schema": "SCHEMA",
    "extension": "EXTENSION",
    "trigger": "TRIGGER",
    "policy": "POLICY",
    "table constraint": "CONSTRAINT",
    "rule": "RULE",
    "collation": "COLLATION",
}


def split_on(identity: str) -> tuple[str, str] | None:
    """``name on table`` (pg_identify_object's form for triggers, policies, constraints) split in two."""
    quoted = False
    for index, char in enumerate(identity):
        if char == '"':
            quoted = not quoted
        elif not quoted and identity.startswith(" on ", index):
            return identity[:index], identity[index + 4 :]
    return None


def _comment(difference: FactDifference, out: Supplement) -> None:
    key = difference.key
    text = "NULL" if difference.desired is None else literal(difference.desired)
    if key.kind == "domain constraint":
        parts = split_on(key.identity)
        if parts:
            out.statements.append(
                f"COMMENT ON CONSTRAINT {parts[0]} ON DOMAIN {parts[1]} IS {text};"
            )
            return
    target = _COMMENT_TARGETS.get(key.kind)
    if target is None:
        out.unresolved.append((difference, f"schemac does not write comments on a {key.kind}"))
        return
    out.statements.append(f"COMMENT ON {target} {key.identity} IS {text};")


_GRANT_TARGETS = {
    "table": "TABLE",
    "view": "TABLE",
    "materialized view": "TABLE",
    "foreign table": "TABLE",
    "sequence": "SEQUENCE",
    "schema": "SCHEMA",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "type": "TYPE",
    "domain": "DOMAIN",
}


def _privileges_statements(difference: FactDifference, out: Supplement) -> None:
    key = difference.key
    target = _GRANT_TARGETS.get(key.kind)
    if target is None:
        out.unresolved.append((difference, f"schemac does not write privileges on a {key.kind}"))
        return
    current = {
        (role, privilege): grantable for role, privilege, grantable in difference.current or ()
    }
    desired = {
        (role, privilege): grantable for role, privilege, grantable in difference.desired or ()
    }
    for role, privilege in sorted(set(current) | set(desired)):
        had, wants = current.get((role, privilege)), desired.get((role, privilege))
        if had == wants:
            continue
        if wants is None:
            out.statements.append(f"REVOKE {privilege} ON {target} {key.identity} FROM {role};")
        elif had is True and wants is False:
            out.statements.append(
                f"REVOKE GRANT OPTION FOR {privilege} ON {target} {key.identity} FROM {role};"
            )
        else:
            option = " WITH GRANT OPTION" if wants else ""
            out.statements.append(
                f"GRANT {privilege} ON {target} {key.identity} TO {role}{option};"
            )


def _view_options(difference: FactDifference, out: Supplement) -> None:
    key = difference.key
    target = "MATERIALIZED VIEW" if key.kind == "materialized view" else "VIEW"
    current = dict(o.split("=", 1) for o in difference.current or ())
    desired = dict(o.split("=", 1) for o in difference.desired or ())
    removed = sorted(set(current) - set(desired))
    changed = sorted(
        f"{name} = {value}" for name, value in desired.items() if current.get(name) != value
    )
    if removed:
        out.statements.append(f"ALTER {target} {key.identity} RESET ({', '.join(removed)});")
    if changed:
        out.statements.append(f"ALTER {target} {key.identity} SET ({', '.join(changed)});")


def _row_security(difference: FactDifference, out: Supplement) -> None:
    identity = difference.key.identity
    enabled, forced = difference.current or (False, False)
    want_enabled, want_forced = difference.desired or (False, False)
    if enabled != want_enabled:
        out.statements.append(
            f"ALTER TABLE {identity} {'ENABLE' if want_enabled else 'DISABLE'} ROW LEVEL SECURITY;"
        )
    if forced != want_forced:
        out.statements.append(
            f"ALTER TABLE {identity} {'FORCE' if want_forced else 'NO FORCE'} ROW LEVEL SECURITY;"
        )


def create_policy(fact: tuple[Any, ...]) -> str:
    name, table, permissive, command, roles, using, check = fact
    text = (
        f"CREATE POLICY {name} ON {table} AS {'PERMISSIVE' if permissive else 'RESTRICTIVE'} "
        f"FOR {command} TO {', '.join(roles) or 'PUBLIC'}"
    )
    if using is not None:
        text += f"\n    USING ({using})"
    if check is not None:
        text += f"\n    WITH CHECK ({check})"
    return text + ";"


def _policy(difference: FactDifference, out: Supplement) -> None:
    if difference.current is not None:
        name, table = difference.current[0], difference.current[1]
        out.statements.append(f"DROP POLICY {name} ON {table};")
    if difference.desired is not None:
        out.statements.append(create_policy(difference.desired))


def _sequence(difference: FactDifference, out: Supplement) -> None:
    identity = difference.key.identity
    if difference.current is None or difference.desired is None:
        out.unresolved.append((difference, "migra creates and drops sequences; it did not here"))
        return
    data_type, start, increment, minimum, maximum, cache, cycle, owned_by = difference.desired
    clauses = [
        f"AS {data_type}",
        f"INCREMENT BY {increment}",
        f"MINVALUE {minimum}",
        f"MAXVALUE {maximum}",
        f"START WITH {start}",
        f"CACHE {cache}",
        "CYCLE" if cycle else "NO CYCLE",
        f"OWNED BY {owned_by or 'NONE'}",
    ]
    out.statements.append(f"ALTER SEQUENCE {identity} {' '.join(clauses)};")


def create_domain(identity: str, fact: tuple[Any, ...]) -> str:
    base, not_null, default, collation, checks = fact
    text = f"CREATE DOMAIN {identity} AS {base}"
    if collation:
        text += f" COLLATE {collation}"
    if default is not None:
        text += f" DEFAULT {default}"
    if not_null:
        text += " NOT NULL"
    for name, definition in checks:
        text += f"\n    CONSTRAINT {name} {definition}"
    return text + ";"


def _domain(difference: FactDifference, out: Supplement) -> None:
    identity = difference.key.identity
    if difference.current is None:
        out.statements.append(create_domain(identity, difference.desired))
        return
    if difference.desired is None:
        statement = f"DROP DOMAIN {identity};"
        out.statements.append(statement)
        out.destructive.append((statement, f"drops domain {identity}"))
        return
    base, not_null, default, collation, checks = difference.current
    want_base, want_not_null, want_default, want_collation, want_checks = difference.desired
    if (base, collation) != (want_base, want_collation):
        out.unresolved.append(
            (
                difference,
                "the base type or collation of a domain cannot be altered; "
                "declare a new domain and move the columns to it",
            )
        )
        return
    if default != want_default:
        out.statements.append(
            f"ALTER DOMAIN {identity} "
            + (f"SET DEFAULT {want_default};" if want_default is not None else "DROP DEFAULT;")
        )
    if not_null != want_not_null:
        out.statements.append(
            f"ALTER DOMAIN {identity} {'SET' if want_not_null else 'DROP'} NOT NULL;"
        )
    current_checks, desired_checks = dict(checks), dict(want_checks)
    for name, definition in sorted(current_checks.items()):
        if desired_checks.get(name) != definition:
            out.statements.append(f"ALTER DOMAIN {identity} DROP CONSTRAINT {name};")
    for name, definition in sorted(desired_checks.items()):
        if current_checks.get(name) != definition:
            out.statements.append(f"ALTER DOMAIN {identity} ADD CONSTRAINT {name} {definition};")


def _schema_owner(difference: FactDifference, out: Supplement) -> None:
    if difference.current is None or difference.desired is None:
        out.unresolved.append((difference, "migra creates and drops schemas; it did not here"))
        return
    out.statements.append(f"ALTER SCHEMA {difference.key.identity} OWNER TO {difference.desired};")


_WRITERS: dict[str, Callable[[FactDifference, Supplement], None]] = {
    "comment": _comment,
    "privileges": _privileges_statements,
    "view_options": _view_options,
    "row_security": _row_security,
    "policy": _policy,
    "sequence": _sequence,
    "domain": _domain,
    "schema_owner": _schema_owner,
}


def enum_additions(
    current: dict[str, tuple[str, ...]], desired: dict[str, tuple[str, ...]]
) -> list[str]:
    """ALTER TYPE ... ADD VALUE for enums that only gained values, keeping the declared order.

    migra would rename the type, create a new one and rewrite every column using it; values
    that are only added need none of that. Enums that lost or reordered values are left to
    migra (and so to the destructive-change check).
    """
    statements: list[str] = []
    for identity, labels in sorted(desired.items()):
        old = current.get(identity)
        if old is None or old == labels or not _is_subsequence(old, labels):
            continue
        present = list(old)
        for position, label in enumerate(labels):
            if label in present:
                continue
            following = next((lab for lab in labels[position + 1 :] if lab in present), None)
            if following is not None:
                statements.append(
                    f"ALTER TYPE {identity} ADD VALUE {literal(label)} BEFORE {literal(following)};"
                )
                present.insert(present.index(following), label)
            else:
                previous = labels[position - 1] if position else present[-1]
                statements.append(
                    f"ALTER TYPE {identity} ADD VALUE {literal(label)} AFTER {literal(previous)};"
                )
                present.insert(present.index(previous) + 1, label)
    return statements


def _is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    remaining = iter(long)
    return all(item in remaining for item in short)
