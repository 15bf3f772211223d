"""The typed plan of `schemac diff`: one `Operation` per statement, with what it does to the
database (the lock it takes, whether it rewrites or scans a table, deletes data or changes
authorisation) and the hazards that follow, in the spirit of pg-schema-diff's plans.

The statements come from the planners (migra's, rewritten where needed) and `online.py`'s
stages; an operation is read from its statement's parse tree (`sql.classify`) and the lock
facts of `locks.py`. Files are written from the operations (`migration_files.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from schemac.hazards import Acknowledgement, Hazard, Severity, acknowledge, hazard
from schemac.locks import (
    Lock,
    builds_index,
    locked_relation,
    locked_relation_key,
    statement_lock,
    subcommand_rewrites,
    subcommand_scans,
)
from schemac.objects import ObjectRef, statement_ref
from schemac.online import Before, Stage, Step
from schemac.planner import USER_SCHEMAS
from schemac.sql.classify import Classified, classify
from schemac.sql.parse import SqlSyntaxError

ColumnTypes = dict[tuple[str, str, str], str]


@dataclass(frozen=True)
class Operation:
    """One statement of the plan and what it does."""

    kind: str  # "alter table", "create index", "grant", ... (sql.classify)
    target: ObjectRef | None
    sql: str
    lock: Lock  # on `locked` (a relation that exists before the migration), else NONE
    locked: tuple[str, str] | None  # that relation's (schema, name)
    rewrites: bool
    scans: bool
    deletes_data: bool
    changes_authorisation: bool
    hazards: tuple[Hazard, ...]
    stage: Stage = Stage.MAIN
    group: str | None = None  # the index of an INDEX-stage operation (one file each)
    proven: bool = False  # a SET NOT NULL that a validated CHECK proves (no scan)

    @property
    def transactional(self) -> bool:
        return self.stage is not Stage.INDEX


_RELATIONS = f"""
    SELECT n.nspname, c.relname, c.relkind::text
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f') AND {USER_SCHEMAS}
"""


def read_before(conn: psycopg.Connection[Any], columns: ColumnTypes) -> Before:
    """The relations (by relkind) and table columns a database holds before the migration."""
    rows = conn.execute(_RELATIONS).fetchall()
    return Before({(str(s), str(n)): str(k) for s, n, k in rows}, frozenset(columns))


_AUTHORISATION_KINDS = frozenset(
    {
        "grant",
        "revoke",
        "grant role",
        "revoke role",
        "create policy",
        "alter policy",
        "drop policy",
        "owner to",
        "create role",
        "alter role",
        "drop role",
        "alterdefaultprivileges",
    }
)
_AUTHORISATION_ACTIONS = frozenset(
    {
        "enable row level security",
        "disable row level security",
        "force row level security",
        "no force row level security",
        "owner to",
    }
)
_UNTRACKABLE = frozenset(
    {
        "drop view",
        "drop function",
        "drop procedure",
        "drop sequence",
        "drop type",
        "drop domain",
        "drop trigger",
    }
)


def operations(
    steps: list[Step],
    before: Before,
    types: tuple[ColumnTypes, ColumnTypes],
    destructive: frozenset[str],
) -> list[Operation]:
    """One operation per staged statement; `types` are the column types before and after,
    `destructive` the statements destructive.py found to lose data."""
    created: set[tuple[str | None, str | None]] = set()
    # A transaction keeps every lock it took until it ends: a scan after an ACCESS EXCLUSIVE
    # on the same table in the same file runs under ACCESS EXCLUSIVE (NOT VALID, then VALIDATE
    # in one file, is no better than a plain ADD CONSTRAINT).
    held: dict[tuple[Stage, str | None, tuple[str, str] | None], Lock] = {}
    planned = []
    for step in steps:
        operation = _operation(step, before, types, destructive, created, held)
        if operation.locked is not None and step.stage is not Stage.INDEX:
            key = (step.stage, step.group, operation.locked)
            held[key] = max(held.get(key, Lock.NONE), operation.lock)
        planned.append(operation)
    return planned


def _operation(
    step: Step,
    before: Before,
    types: tuple[ColumnTypes, ColumnTypes],
    destructive: frozenset[str],
    created: set[tuple[str | None, str | None]],
    held: dict[tuple[Stage, str | None, tuple[str, str] | None], Lock],
) -> Operation:
    try:
        info: Classified | None = classify(step.sql)
    except (SqlSyntaxError, AttributeError, IndexError):
        info = None  # an entry of several statements (a role's DO block): no relation locked
    if info is None:
        return Operation(
            "statements", None, step.sql, Lock.NONE, None, False, False, False, True, (), step.stage
        )
    # (schema, name) keys, never labels split on ".": names may contain dots
    relation = locked_relation_key(info)
    existing = relation is not None and relation not in created and relation in before.relations
    if info.kind in ("create table", "create view", "create materialized view") and info.name:
        created.add((info.schema, info.name))
    lock = statement_lock(info) if existing else Lock.NONE
    rewrites = scans = False
    for command in info.subcommands:
        key = (info.schema or "public", str(info.name), str(command.column))
        rewrites |= subcommand_rewrites(command, (types[0].get(key), types[1].get(key)))
        scans |= subcommand_scans(command) and not (
            step.proven and command.action == "set not null"
        )
    if info.kind == "create index" or any(builds_index(c) for c in info.subcommands):
        scans = True
    rewrites &= existing
    scans &= existing
    authorisation = info.kind in _AUTHORISATION_KINDS or any(
        c.action in _AUTHORISATION_ACTIONS for c in info.subcommands
    )
    deletes = step.sql in destructive
    target = statement_ref(step.sql)
    subject = info.member_of or (info.schema, info.name)
    known = subject not in created and subject in before.relations
    holding = max(lock, held.get((step.stage, step.group, relation), Lock.NONE))
    found = _hazards(
        info, (lock, holding), existing, known, rewrites, scans, deletes, authorisation
    )
    return Operation(
        info.kind,
        target,
        step.sql,
        lock,
        relation if existing else None,
        rewrites,
        scans,
        deletes,
        authorisation,
        found,
        step.stage,
        step.group,
        step.proven,
    )


def _hazards(
    info: Classified,
    locks: tuple[Lock, Lock],
    existing: bool,
    known: bool,
    rewrites: bool,
    scans: bool,
    deletes: bool,
    authorisation: bool,
) -> tuple[Hazard, ...]:
    """`locks`: the one it takes, and the strongest its transaction holds on the relation
    once it runs (what its scan runs under);
    `existing`: that relation exists before the migration; `known`: so does the object (or
    the table of the member) it acts on."""
    lock, holding = locks
    member = ".".join(p for p in info.member_of if p) if info.member_of else None
    obj = locked_relation(info) or member or info.qualified
    found: list[Hazard] = []
    if existing and lock is Lock.ACCESS_EXCLUSIVE:
        found.append(
            hazard(
                "access-exclusive-lock",
                obj,
                f"{info.kind} takes ACCESS EXCLUSIVE on {obj}: its reads and writes wait "
                "(for at most lock_timeout while it queues)",
            )
        )
    if rewrites:
        found.append(
            hazard(
                "table-rewrite",
                obj,
                f"rewrites {obj} and its indexes under ACCESS EXCLUSIVE",
                hint="acknowledge it (lint.acknowledge in schemac.yaml) or pass --allow-rewrite",
            )
        )
    index_build = info.kind == "create index" or any(builds_index(c) for c in info.subcommands)
    if existing and index_build and lock.blocks_writes:
        found.append(
            hazard("index-build-blocks-writes", obj, f"builds an index on {obj}: writes wait")
        )
    elif existing and index_build:
        found.append(hazard("index-build", obj, f"builds an index on {obj} concurrently"))
    elif scans and holding.blocks_writes:
        found.append(
            hazard(
                "full-scan-under-lock",
                obj,
                f"scans all of {obj} while holding {holding.sql_name}",
            )
        )
    elif scans:
        found.append(
            hazard(
                "full-scan-under-lock",
                obj,
                f"scans all of {obj} under {holding.sql_name} (writes go on)",
                severity=Severity.INFO,
            )
        )
    return (*found, *_object_hazards(info, obj, existing, known, deletes, authorisation))


def _object_hazards(
    info: Classified, obj: str, existing: bool, known: bool, deletes: bool, authorisation: bool
) -> list[Hazard]:
    """What the statement does to objects and access, whatever its lock."""
    found: list[Hazard] = []
    if info.kind == "drop index":
        found.append(hazard("index-dropped", obj, f"drops index {info.qualified}"))
    if deletes:
        found.append(
            hazard(
                "deletes-data",
                obj or info.qualified,
                f"{info.kind} on {obj or info.qualified} loses data",
                hint="acknowledge it (lint.acknowledge in schemac.yaml) or pass "
                "--allow-destructive",
            )
        )
    if authorisation and known:
        what = info.qualified or obj
        found.append(hazard("authorization-change", what, f"{info.kind} changes access to {what}"))
    if known and (info.kind in _UNTRACKABLE or (info.kind == "create view" and existing)):
        found.append(
            hazard(
                "untrackable-dependency",
                info.qualified,
                f"{info.kind} {info.qualified}: code outside the catalog may use it",
            )
        )
    if info.kind == "alter extension" and info.version:
        found.append(
            hazard("extension-upgrade", info.qualified, f"upgrades {info.name} to {info.version}")
        )
    if info.kind.startswith("rename ") and existing:
        found.append(
            hazard("breaks-running-clients", obj, f"{info.kind}: running code may use the old name")
        )
    return found


def acknowledged(
    planned: list[Operation], acknowledgements: tuple[Acknowledgement, ...], root: Path
) -> list[Operation]:
    """The operations with the project's acknowledgements (`lint.acknowledge`) applied to their
    hazards; one that matches nothing here is not reported (it may be meant for `lint`)."""
    result = []
    for operation in planned:
        found = [
            h
            for h in acknowledge(list(operation.hazards), acknowledgements, root)
            if h.code != "acknowledgement-unused"
        ]
        result.append(replace(operation, hazards=tuple(found)))
    return result
