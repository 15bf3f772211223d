"""Statements for what migra does not diff: the facts (``facts.py``) of two databases that
differ, written as the statements that make the current one like the desired one. A
difference it cannot express becomes an *unresolved* difference, which the caller reports by
name: nothing is skipped in silence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Re-exported: diff.py, comparison.py and check_live.py read facts through this module.
from schemac.facts import (
    FactDifference,
    FactKey,
    Facts,
    compare_facts,
    read_enums,
    read_facts,
)
from schemac.kinds.common import dollar_tag
from schemac.naming import quote_ident
from schemac.sql.names import parse_name_chain

__all__ = [
    "FactDifference",
    "FactKey",
    "Facts",
    "Supplement",
    "compare_facts",
    "enum_additions",
    "read_enums",
    "read_facts",
    "supplement_statements",
]


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
        "default_privileges",
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
    "aggregate": "FUNCTION",  # GRANT names an aggregate as a function (kinds/aggregates.py)
    "type": "TYPE",
    "composite type": "TYPE",
    "multirange type": "TYPE",
    "domain": "DOMAIN",
}


def _column_target(identity: str) -> str:
    """A column's pg_identify_object identity (``s.t.c``) as GRANT's ``(c) ON TABLE s.t``."""
    chain = parse_name_chain(identity, max_parts=3)
    schema, table, column = chain.parts
    return f"({quote_ident(column)}) ON TABLE {quote_ident(schema)}.{quote_ident(table)}"


def _privileges_statements(difference: FactDifference, out: Supplement) -> None:
    key = difference.key
    if key.kind.endswith(" column"):  # GRANT privilege (column) ON TABLE ...
        on = _column_target(key.identity)
    elif key.kind in _GRANT_TARGETS:
        on = f"ON {_GRANT_TARGETS[key.kind]} {key.identity}"
    else:
        out.unresolved.append((difference, f"schemac does not write privileges on a {key.kind}"))
        return
    current = {
        (role, privilege): grantable for role, privilege, grantable in difference.current or ()
    }
    desired = {
        (role, privilege): grantable for role, privilege, grantable in difference.desired or ()
    }
    statements = []
    for role, privilege in sorted(set(current) | set(desired)):
        had, wants = current.get((role, privilege)), desired.get((role, privilege))
        if had == wants:
            continue
        if wants is None:
            statements.append(f"REVOKE {privilege} {on} FROM {role};")
        elif had is True and wants is False:
            statements.append(f"REVOKE GRANT OPTION FOR {privilege} {on} FROM {role};")
        else:
            option = " WITH GRANT OPTION" if wants else ""
            statements.append(f"GRANT {privilege} {on} TO {role}{option};")
    if key.kind == "multirange type" and statements:
        statements = [_before_17(statements)]
    out.statements.extend(statements)


def _before_17(statements: list[str]) -> str:
    """Statements on a multirange, run only by PostgreSQL 16 and older: 17 refuses GRANT on a
    multirange, whose privileges are then its range's (kinds/ranges.py)."""
    body = "\n".join(statements)
    tag = dollar_tag(body)
    return (
        f"DO {tag}\nBEGIN\nIF pg_catalog.current_setting('server_version_num')::integer < 170000"
        f" THEN\n{body}\nEND IF;\nEND\n{tag};"
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


def _default_privileges(difference: FactDifference, out: Supplement) -> None:
    from schemac.kinds.default_privileges import parse_label, statements

    role, schema, on = parse_label(difference.key.identity)
    out.statements += statements(role, schema, on, difference.current, difference.desired)


_WRITERS: dict[str, Callable[[FactDifference, Supplement], None]] = {
    "comment": _comment,
    "privileges": _privileges_statements,
    "view_options": _view_options,
    "row_security": _row_security,
    "policy": _policy,
    "sequence": _sequence,
    "domain": _domain,
    "schema_owner": _schema_owner,
    "default_privileges": _default_privileges,
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
