"""Functions and procedures, triggers and policies."""

from __future__ import annotations

from typing import Any

import psycopg

from schemac import model as m
from schemac.catalog.contents import CATALOG_LOCATION, CatalogModel
from schemac.catalog.queries import (
    USER_NAMESPACE,
    acl,
    acl_entries,
    comment,
    grants_of,
    not_extension_member,
    options,
    rows,
)
from schemac.catalog.relations import Relations
from schemac.naming import member_label

ROUTINES = f"""
SELECT p.oid, n.nspname AS schema, p.proname AS name, p.prokind, l.lanname AS language,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity,
       p.proargnames, p.proargmodes,
       ARRAY(SELECT pg_catalog.format_type(u.t, NULL)
             FROM unnest(coalesce(p.proallargtypes, p.proargtypes::pg_catalog.oid[]))
                  WITH ORDINALITY u(t, pos) ORDER BY u.pos) AS argument_types,
       ARRAY(SELECT pg_catalog.pg_get_function_arg_default(p.oid, g)
             FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) g
             ORDER BY g) AS argument_defaults,
       CASE WHEN p.prokind <> 'p' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns,
       p.provolatile, p.proisstrict, p.proleakproof, p.prosecdef, p.proparallel,
       p.procost, p.prorows, p.proconfig, p.prosrc, p.probin,
       pg_catalog.pg_get_function_sqlbody(p.oid) AS sql_body,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       {acl("p.proacl", "f", "p.proowner")} AS acl,
       {comment("pg_proc", "p.oid")} AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p', 'w') AND {USER_NAMESPACE}
  AND {not_extension_member("pg_proc", "p.oid")}
  -- A range type's constructors are the type's (kinds/ranges.py), not routines of their own.
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend i
                  WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    AND i.objid = p.oid AND i.deptype = 'i')
ORDER BY n.nspname, p.proname, 5
"""

# Partition clones (tgparentid <> 0) are PostgreSQL's copies of the parent's trigger.
TRIGGERS = f"""
SELECT t.tgrelid AS rel, t.tgname AS name, t.tgtype, t.tgenabled,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition, fn.nspname AS function_schema,
       f.proname AS function_name, t.tgargs, t.tgnargs, t.tgoldtable, t.tgnewtable,
       ARRAY(SELECT a.attname FROM unnest(t.tgattr::pg_catalog.int2[]) u(num)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = u.num
             ORDER BY a.attnum) AS update_of,
       t.tgconstraint <> 0 AS is_constraint, t.tgdeferrable, t.tginitdeferred,
       {comment("pg_trigger", "t.oid")} AS comment
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_proc f ON f.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal AND t.tgparentid = 0
ORDER BY t.tgrelid, t.tgname
"""

POLICIES = f"""
SELECT p.polrelid AS rel, p.polname AS name, p.polpermissive, p.polcmd,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r) END
             FROM unnest(p.polroles) r ORDER BY 1) AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
       {comment("pg_policy", "p.oid")} AS comment
FROM pg_catalog.pg_policy p
WHERE p.polrelid = ANY(%s)
ORDER BY p.polrelid, p.polname
"""

_MODES = {"i": None, "o": "out", "b": "inout", "v": "variadic", "t": "table"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}
_COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}
_ENABLED = {"O": "enabled", "D": "disabled", "R": "replica", "A": "always"}


def read_routines(conn: psycopg.Connection[Any], out: CatalogModel) -> None:
    for row in rows(conn, ROUTINES):
        modes = row["proargmodes"] or ["i"] * len(row["argument_types"])
        names = row["proargnames"] or [""] * len(row["argument_types"])
        arguments: list[m.Argument] = []
        table_columns: list[tuple[str, str]] = []
        for position, type_name in enumerate(row["argument_types"]):
            mode = _MODES[modes[position]]
            name = names[position] if position < len(names) and names[position] else None
            if mode == "table":
                table_columns.append((name or "", type_name))
                continue
            arguments.append(
                m.Argument(name, type_name, mode, _at(row["argument_defaults"], position))
            )
        qname = m.QName(row["schema"], row["name"])
        entries = acl_entries(row["acl"])
        body = row["sql_body"] if row["sql_body"] is not None else row["prosrc"]
        routine = m.Function(
            qname=qname,
            is_procedure=row["prokind"] == "p",
            language=row["language"],
            arguments=tuple(arguments),
            returns=row["returns"],
            volatility=_VOLATILITY[row["provolatile"]],
            strict=bool(row["proisstrict"]),
            leakproof=bool(row["proleakproof"]),
            security_definer=bool(row["prosecdef"]),
            parallel=_PARALLEL[row["proparallel"]],
            cost=float(row["procost"]),
            rows=float(row["prorows"]),
            settings=options(row["proconfig"]),
            body=body or "",
            depends_on=(),
            grants=grants_of(entries),
            comment=row["comment"],
            loc=CATALOG_LOCATION,
            returns_columns=tuple(table_columns),
        )
        kind = "procedure" if routine.is_procedure else "function"
        extras: dict[str, Any] = {"owner": row["owner"], "acl": entries}
        if row["probin"] is not None:
            extras["object file"] = row["probin"]
        if row["prokind"] == "w":
            extras["window"] = True
        out.add(kind, f"{qname.label}({row['identity']})", routine, **extras)


def _at(values: list[Any] | None, position: int) -> Any:
    return values[position] if values and position < len(values) else None


def _timing(tgtype: int) -> str:
    if tgtype & 64:
        return "instead of"
    return "before" if tgtype & 2 else "after"


def _events(tgtype: int) -> tuple[str, ...]:
    bits = ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))
    return tuple(event for bit, event in bits if tgtype & bit)


def read_triggers(conn: psycopg.Connection[Any], out: CatalogModel, relations: Relations) -> None:
    for row in rows(conn, TRIGGERS, (relations.oids(),)):
        table = relations.names[row["rel"]]
        raw_args = bytes(row["tgargs"] or b"")
        arguments = tuple(a.decode() for a in raw_args.split(b"\x00")[: row["tgnargs"]])
        trigger = m.Trigger(
            name=row["name"],
            table=table,
            timing=_timing(row["tgtype"]),
            events=_events(row["tgtype"]),
            update_of=tuple(row["update_of"]),
            for_each="row" if row["tgtype"] & 1 else "statement",
            # The WHEN condition is part of the definition compared below; reading it apart
            # needs a parser (the pglast module), which import will use.
            when=None,
            function=m.QName(row["function_schema"], row["function_name"]),
            arguments=arguments,
            old_table=row["tgoldtable"],
            new_table=row["tgnewtable"],
            comment=row["comment"],
            loc=CATALOG_LOCATION,
            enabled=_ENABLED.get(row["tgenabled"], row["tgenabled"]),
        )
        extras: dict[str, Any] = {"definition": row["definition"]}
        if row["is_constraint"]:
            extras["constraint trigger"] = (bool(row["tgdeferrable"]), bool(row["tginitdeferred"]))
        out.add("trigger", member_label(row["name"], table.label), trigger, **extras)


def read_policies(conn: psycopg.Connection[Any], out: CatalogModel, relations: Relations) -> None:
    for row in rows(conn, POLICIES, (relations.oids(),)):
        table = relations.names[row["rel"]]
        policy = m.Policy(
            name=row["name"],
            table=table,
            permissive=bool(row["polpermissive"]),
            command=_COMMANDS[row["polcmd"]],
            roles=tuple(row["roles"]),
            using=row["using_expr"],
            with_check=row["check_expr"],
            comment=row["comment"],
            loc=CATALOG_LOCATION,
        )
        out.add("policy", member_label(row["name"], table.label), policy)
