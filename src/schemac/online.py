"""Online-safe plans: the planned statements rearranged so that a busy database keeps serving.

Each rewrite applies only to a plain table that exists before the migration (one created or
re-created by the same plan is invisible to other sessions until the commit), and each is
turned off by a setting of the `migrations:` block in schemac.yaml (docs/safety.md):

- `concurrent_indexes`: a new index is built with CREATE INDEX CONCURRENTLY in a file of its
  own that Flyway runs outside a transaction (SHARE UPDATE EXCLUSIVE: writes go on), unless
  another statement of the migration needs the index (ADD CONSTRAINT ... USING INDEX);
- `validate_constraints`: a CHECK or foreign key is added NOT VALID (a moment of lock, no scan)
  and VALIDATEd in the next file, whose scan holds only SHARE UPDATE EXCLUSIVE (writes go on);
- `not_null_through_check`: SET NOT NULL on an existing column becomes a CHECK (c IS NOT NULL)
  added NOT VALID, validated in the next file, then SET NOT NULL (which PostgreSQL 12+ proves
  from the validated check instead of scanning) and the check dropped, in the file after.

Partitioned tables are left alone: PostgreSQL cannot build an index on one concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.stream import RawStream

from schemac.naming import make_object_name, quote_ident, quote_qualified
from schemac.online_settings import MigrationSettings
from schemac.sql.classify import Classified, classify
from schemac.sql.parse import SqlSyntaxError
from schemac.sql.statements import concurrently, index_info

__all__ = ["Before", "MigrationSettings", "Stage", "Step", "stage_statements"]


class Stage(IntEnum):
    """Where an operation goes, in file order."""

    ENUM_VALUES = 0  # committed before anything may use the new values
    MAIN = 1  # the migration proper, one transaction
    INDEX = 2  # one non-transactional file per index built concurrently
    VALIDATE = 3  # VALIDATE CONSTRAINT: scans under SHARE UPDATE EXCLUSIVE
    NOT_NULL = 4  # SET NOT NULL proven by a validated check, and the check dropped
    KEYS = 5  # a key taken from its unique index built concurrently (ADD ... USING INDEX)


# -- the rewrites ---------------------------------------------------------------------------------

Relation = tuple[str, str]  # schema, name


@dataclass(frozen=True)
class Before:
    """What the database held before the migration: relations by kind (pg_class.relkind) and
    the columns of tables."""

    relations: dict[Relation, str] = field(default_factory=dict)
    columns: frozenset[tuple[str, str, str]] = frozenset()


@dataclass(frozen=True)
class Step:
    """One statement with the stage it runs in; `group` names the file of an INDEX step;
    `proven` marks a SET NOT NULL that a validated check makes a catalog-only change."""

    sql: str
    stage: Stage
    group: str | None = None
    proven: bool = False


def _relation_of(info: Classified) -> Relation | None:
    if info.member_of is not None and info.kind == "create index":
        return (info.member_of[0] or "public", info.member_of[1])
    if info.name is None:
        return None
    return (info.schema or "public", info.name)


_CREATES = ("create table", "create view", "create materialized view")


def stage_statements(
    statements: list[str],
    before: Before,
    settings: MigrationSettings,
    declared_concurrent: frozenset[str] = frozenset(),
) -> list[Step]:
    """The statements with their stages; rewritten where the settings ask for online-safety.
    Indexes declared `concurrently: true` are always built concurrently."""
    infos = [_classified(s) for s in statements]
    created: set[Relation] = set()
    existing: list[bool] = []
    for info in infos:  # a relation (re)created earlier in this plan is not "existing"
        relation = _relation_of(info) if info is not None else None
        plain = relation is not None and before.relations.get(relation) in ("r", "m")
        existing.append(plain and relation not in created)
        if info is not None and info.kind in _CREATES and relation is not None:
            created.add(relation)
    # indexes another statement uses stay in the main file, where that statement runs
    users = _index_users(infos)
    needed = set(users)
    keys_online = (
        _keys_built_online(statements, infos, existing, users)
        if settings.concurrent_indexes
        else {}
    )
    needed -= set(keys_online)
    moved_keys = {
        (quote_qualified(i.schema or "public", str(i.name)), i.subcommands[0].constraint)
        for i in infos
        if i is not None and _key_index(i) in keys_online
    }
    steps: list[Step] = []
    # index name quoted (quote_qualified: a name may contain dots) -> its group
    moved: dict[str, str] = {}
    for statement, info, old in zip(statements, infos, existing, strict=True):
        index = index_info(statement) if info is not None and info.kind == "create index" else None
        if index is not None and index.name and not index.concurrent and not index.only:
            qualified = quote_qualified(index.schema or "public", index.name)
            if qualified in declared_concurrent or (
                settings.concurrent_indexes and old and qualified not in needed
            ):
                moved[qualified] = qualified
                steps.append(Step(concurrently(statement) + ";", Stage.INDEX, qualified))
                continue
        if info is not None and info.kind == "comment on" and info.object_kind == "index":
            group = moved.get(quote_qualified(info.schema or "public", str(info.name)))
            if group is not None:
                steps.append(Step(statement, Stage.INDEX, group))
                continue
        if info is not None and (
            _key_index(info) in keys_online or _key_comment(info) in moved_keys
        ):
            steps.append(Step(statement, Stage.KEYS))  # the key, and its comment after it
            continue
        steps += _constraint_steps(statement, info, old, before, settings)
    return _deduplicated(steps)


def _key_index(info: Classified) -> str | None:
    """The index an ``ALTER TABLE t ADD CONSTRAINT k {PRIMARY KEY | UNIQUE} USING INDEX i``
    (and nothing else) takes, quoted; None for any other statement."""
    if info.kind != "alter table" or len(info.subcommands) != 1:
        return None
    command = info.subcommands[0]
    if command.action != "add constraint" or command.constraint_type not in (
        "primary key",
        "unique",
    ):
        return None
    if not command.using_index:
        return None
    return quote_qualified(info.schema or "public", command.using_index)


def _key_comment(info: Classified) -> tuple[str, str | None] | None:
    """(quoted table, constraint) of a COMMENT ON CONSTRAINT; None for any other statement."""
    if info.kind != "comment on" or info.object_kind != "constraint" or info.member_of is None:
        return None
    return quote_qualified(info.member_of[0] or "public", info.member_of[1]), str(info.name)


def _keys_built_online(
    statements: list[str],
    infos: list[Classified | None],
    existing: list[bool],
    users: dict[str, list[Classified]],
) -> dict[str, str]:
    """The unique indexes of existing plain tables (a leaf partition is one) that a key of
    the same table takes by ADD CONSTRAINT ... USING INDEX and nothing else names: built
    CONCURRENTLY in their own file and the key added after every other stage (a moment of
    ACCESS EXCLUSIVE, no build; PostgreSQL accepts both on a leaf partition, not on a
    partitioned table: tests/catalog/test_partition_own_objects_rules.py). Not while the
    plan adds a foreign key or sets a replica identity, which may need the index before it
    is built."""
    if any(
        c.constraint_type == "foreign key" or c.action == "replica identity"
        for i in infos
        if i is not None
        for c in i.subcommands
    ):
        return {}
    built: dict[str, str] = {}  # quoted index -> quoted table, of the unique indexes
    for statement, info, old in zip(statements, infos, existing, strict=True):
        index = index_info(statement) if info is not None and info.kind == "create index" else None
        if old and index is not None and index.unique and index.name and not index.only:
            schema = index.schema or "public"
            built[quote_qualified(schema, index.name)] = quote_qualified(schema, index.table)
    return {
        index: table
        for index, table in built.items()
        if [
            (_key_index(u), quote_qualified(u.schema or "public", str(u.name)))
            for u in users.get(index, [])
        ]
        == [(index, table)]
    }


def _classified(statement: str) -> Classified | None:
    try:
        return classify(statement)
    except (SqlSyntaxError, AttributeError, IndexError):
        return None  # several statements in one entry (a role's DO block and grants): as is


def _index_users(infos: list[Classified | None]) -> dict[str, list[Classified]]:
    """The statements that use an index by name (ADD CONSTRAINT ... USING INDEX, ALTER INDEX),
    by the quoted index."""
    users: dict[str, list[Classified]] = {}
    for info in infos:
        if info is None:
            continue
        if info.kind == "alter index" and info.name:
            users.setdefault(quote_qualified(info.schema or "public", str(info.name)), []).append(
                info
            )
        for command in info.subcommands:
            if command.using_index:
                name = quote_qualified(info.schema or "public", str(command.using_index))
                users.setdefault(name, []).append(info)
    return users


def _constraint_steps(
    statement: str,
    info: Classified | None,
    existing: bool,
    before: Before,
    settings: MigrationSettings,
) -> list[Step]:
    if (
        info is None
        or not existing
        or info.kind != "alter table"
        or len(info.subcommands) != 1
        or before.relations.get((info.schema or "public", str(info.name))) != "r"
    ):
        return [Step(statement, Stage.MAIN)]
    command = info.subcommands[0]
    table = quote_qualified(info.schema or "public", str(info.name))
    if settings.validate_constraints and command.action == "validate constraint":
        return [Step(statement, Stage.VALIDATE)]
    if (
        settings.validate_constraints
        and command.action == "add constraint"
        and command.constraint_type in ("check", "foreign key")
        and command.constraint
    ):
        validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_ident(command.constraint)};"
        main = statement if command.not_valid else _not_valid(statement)
        return [Step(main, Stage.MAIN), Step(validate, Stage.VALIDATE)]
    key = (info.schema or "public", str(info.name), str(command.column))
    if (
        settings.not_null_through_check
        and command.action == "set not null"
        and key in before.columns
    ):
        check = quote_ident(make_object_name(str(info.name), command.column, "not_null_check"))
        column = quote_ident(str(command.column))
        return [
            Step(
                f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;",
                Stage.MAIN,
            ),
            Step(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check};", Stage.VALIDATE),
            Step(statement, Stage.NOT_NULL, proven=True),
            Step(f"ALTER TABLE {table} DROP CONSTRAINT {check};", Stage.NOT_NULL),
        ]
    return [Step(statement, Stage.MAIN)]


def _not_valid(statement: str) -> str:
    """ADD CONSTRAINT ... NOT VALID, set on the parse tree and printed back."""
    node: Any = parse_sql(statement)[0].stmt
    constraint = node.cmds[0].def_
    if not isinstance(constraint, ast.Constraint) or constraint.contype not in (
        enums.ConstrType.CONSTR_CHECK,
        enums.ConstrType.CONSTR_FOREIGN,
    ):
        raise ValueError(f"not a CHECK or FOREIGN KEY constraint: {statement[:60]}")
    constraint.skip_validation = True
    constraint.initially_valid = False
    return str(RawStream()(node)) + ";"


def _deduplicated(steps: list[Step]) -> list[Step]:
    """migra writes VALIDATE itself after a NOT VALID constraint: one VALIDATE is kept."""
    seen: set[tuple[str, str | None]] = set()
    kept: list[Step] = []
    for step in steps:
        if step.stage is Stage.VALIDATE:
            info = classify(step.sql)
            key = (info.qualified, info.subcommands[0].constraint)
            if key in seen:
                continue
            seen.add(key)
        kept.append(step)
    return kept
