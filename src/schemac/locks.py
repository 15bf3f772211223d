"""What a statement does to the relation it acts on: the lock it takes, whether it rewrites or
scans it. Pure functions over `sql.classify`'s reading, driven by tables.

The lock levels are PostgreSQL's documented ones (the reference pages of ALTER TABLE, CREATE
INDEX, DROP INDEX, CREATE TRIGGER, CREATE POLICY, COMMENT, REFRESH MATERIALIZED VIEW and the
"Explicit Locking" chapter), for PostgreSQL 12 and later (schemac supports 13+): ALTER TABLE
takes ACCESS EXCLUSIVE "unless explicitly noted", and a statement with several sub-commands
takes the strongest of their locks, as PostgreSQL's `AlterTableGetLockLevel` does.

Where the lock depends on something this reading does not carry, the stronger lock is
assumed: `SET (storage_parameter)` takes SHARE UPDATE EXCLUSIVE only for some parameters
(fillfactor, autovacuum, toast, parallel_workers), ACCESS EXCLUSIVE here.
"""

from __future__ import annotations

from enum import IntEnum

from schemac.sql.classify import Classified, SubCommand
from schemac.sql.parse import SqlSyntaxError, parse_type_name


class Lock(IntEnum):
    """PostgreSQL's table lock modes, weakest first (the order `AlterTableGetLockLevel` uses)."""

    NONE = 0  # no lock on an existing relation (a new object, a grant, a function)
    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def sql_name(self) -> str:
        return "none" if self is Lock.NONE else self.name.replace("_", " ")

    @property
    def blocks_writes(self) -> bool:
        """Conflicts with ROW EXCLUSIVE, the lock INSERT, UPDATE and DELETE take."""
        return self >= Lock.SHARE

    @property
    def blocks_reads(self) -> bool:
        """Conflicts with ACCESS SHARE, the lock SELECT takes."""
        return self is Lock.ACCESS_EXCLUSIVE


A, SUE, SRE = Lock.ACCESS_EXCLUSIVE, Lock.SHARE_UPDATE_EXCLUSIVE, Lock.SHARE_ROW_EXCLUSIVE

# ALTER TABLE sub-commands (classify's action names) the documentation lists with a weaker lock
# than ACCESS EXCLUSIVE. Every other action takes ACCESS EXCLUSIVE.
ALTER_TABLE_LOCKS: dict[str, Lock] = {
    "set statistics": SUE,
    "setoptions": SUE,  # ALTER COLUMN ... SET (attribute_option = ...)
    "resetoptions": SUE,
    "validate constraint": SUE,  # plus ROW SHARE on the table a foreign key references
    "clusteron": SUE,
    "dropcluster": SUE,
    "attach partition": SUE,  # on the parent (12+); ACCESS EXCLUSIVE on the partition
    "enable trigger": SRE,
    "disable trigger": SRE,
    "enablealwaystrig": SRE,
    "enablereplicatrig": SRE,
    "enabletrigall": SRE,
    "disabletrigall": SRE,
    "enabletriguser": SRE,
    "disabletriguser": SRE,
}

# Constraint types whose ADD CONSTRAINT takes less than ACCESS EXCLUSIVE on the table.
ADD_CONSTRAINT_LOCKS: dict[str, Lock] = {
    "foreign key": SRE,  # also SHARE ROW EXCLUSIVE on the referenced table
}

# Statements other than ALTER TABLE: (classify's kind, CONCURRENTLY) -> the lock on the relation
# it acts on. A kind not listed takes no lock on an existing relation.
STATEMENT_LOCKS: dict[tuple[str, bool], Lock] = {
    ("create index", False): Lock.SHARE,
    ("create index", True): SUE,
    ("drop index", False): A,  # on the index's table too
    ("drop index", True): SUE,
    ("reindex", False): Lock.SHARE,
    ("create trigger", False): SRE,
    ("drop trigger", False): A,
    ("create policy", False): A,
    ("alter policy", False): A,
    ("drop policy", False): A,
    ("drop table", False): A,
    ("drop view", False): A,
    ("drop materialized view", False): A,
    ("truncate", False): A,
    ("create view", False): A,  # CREATE OR REPLACE of an existing view
    ("refresh materialized view", False): A,
    ("refresh materialized view", True): Lock.EXCLUSIVE,
    ("rename table", False): A,
    ("rename view", False): A,
    ("rename materialized view", False): A,
    ("rename column", False): A,
    ("rename constraint", False): A,
    ("rename trigger", False): A,
    ("rename policy", False): A,
    ("rename index", False): SUE,  # 12+
    ("rename sequence", False): A,
    ("alter sequence", False): SRE,
    ("comment on", False): SUE,  # on the commented relation (or a member's table)
}

# Kinds of object whose statements lock a relation: the rest (functions, types, schemas,
# roles, extensions) lock none.
_RELATION_KINDS = frozenset(
    {
        "table",
        "view",
        "materialized view",
        "index",
        "sequence",
        "column",
        "constraint",
        "trigger",
        "policy",
        "foreign table",
    }
)


def subcommand_lock(command: SubCommand) -> Lock:
    if command.action == "add constraint" and command.constraint_type is not None:
        return ADD_CONSTRAINT_LOCKS.get(command.constraint_type, A)
    return ALTER_TABLE_LOCKS.get(command.action, A)


def statement_lock(info: Classified) -> Lock:
    """The strongest lock `info` takes on the relation it acts on (`locked_relation`)."""
    if info.kind.startswith("alter ") and info.subcommands and info.object_kind in _RELATION_KINDS:
        return max(subcommand_lock(c) for c in info.subcommands)
    if info.kind.startswith("alter ") and info.object_kind in _RELATION_KINDS:
        return A if info.kind != "alter sequence" else SRE  # SET SCHEMA and the like
    if info.kind == "owner to" and info.object_kind in _RELATION_KINDS:
        return A
    if info.object_kind not in _RELATION_KINDS and info.kind != "truncate":
        return Lock.NONE
    return STATEMENT_LOCKS.get((info.kind, info.concurrent), Lock.NONE)


def locked_relation(info: Classified) -> str | None:
    """The relation whose lock `statement_lock` names: a trigger's, policy's, index's or
    member's table, else the statement's own target."""
    if statement_lock(info) is Lock.NONE:
        return None
    if info.member_of is not None and info.kind != "drop index":
        return ".".join(p for p in info.member_of if p)
    return info.qualified or None


def locked_relation_key(info: Classified) -> tuple[str, str] | None:
    """`locked_relation` as (schema, name), None when the statement does not qualify it: a
    name may contain dots ("app.v2"."orders.2026"), so lookups never split the label."""
    if statement_lock(info) is Lock.NONE:
        return None
    schema, name = (
        info.member_of
        if info.member_of is not None and info.kind != "drop index"
        else (info.schema, info.name)
    )
    return (schema, name) if schema and name else None


# -- rewrites and scans ---------------------------------------------------------------------------

# ALTER TABLE actions that rewrite the table (and rebuild its indexes) whatever their details.
# SET TABLESPACE copies every file of the table: as long as a rewrite, under ACCESS EXCLUSIVE.
REWRITING_ACTIONS = frozenset({"set logged", "set unlogged", "setaccessmethod", "set tablespace"})


def type_change_rewrites(old: str, new: str) -> bool:
    """Whether ALTER COLUMN TYPE from `old` to `new` (format_type spelling) rewrites the table.

    PostgreSQL skips the rewrite only when the new type is binary coercible from the old and
    accepts every old value unchanged: varchar to a longer or unbounded varchar, varchar to
    text, numeric(p, s) to numeric(p', s) with p' >= p, to unconstrained numeric. Everything
    else rewrites (int to bigint too), including what is merely assumed to."""
    if old == new:
        return False
    try:
        before, after = parse_type_name(old), parse_type_name(new)
    except SqlSyntaxError:
        return True
    if before.array_bounds or after.array_bounds or before.schema or after.schema:
        return True
    if before.name == "varchar" and after.name in ("varchar", "text"):
        if after.name == "text" or not after.modifiers:
            return False
        return not before.modifiers or int(after.modifiers[0]) < int(before.modifiers[0])
    if before.name == "text" and after.name == "varchar" and not after.modifiers:
        return False
    if before.name == "numeric" and after.name == "numeric":
        if not after.modifiers:
            return False
        if not before.modifiers:
            return True
        old_scale = int(before.modifiers[1]) if len(before.modifiers) > 1 else 0
        new_scale = int(after.modifiers[1]) if len(after.modifiers) > 1 else 0
        return new_scale != old_scale or int(after.modifiers[0]) < int(before.modifiers[0])
    return True


def subcommand_rewrites(command: SubCommand, types: tuple[str | None, str | None]) -> bool:
    """Whether the sub-command rewrites the table; `types` is the column's (old, new) type
    for SET DATA TYPE (None where unknown: then it is assumed to)."""
    if command.action in REWRITING_ACTIONS:
        return True
    if command.action == "add column":
        return command.fills is not None
    if command.action == "set data type":
        old, new = types
        return old is None or new is None or type_change_rewrites(old, new)
    return False


def subcommand_scans(command: SubCommand) -> bool:
    """Whether the sub-command reads every row to check it (under its lock)."""
    if command.action == "add constraint":
        if command.using_index:
            return False  # the index was built (and checked) before
        if command.constraint_type in ("check", "foreign key"):
            return not command.not_valid
        return command.constraint_type in ("primary key", "unique", "exclusion", "not null")
    if command.action == "add column":
        return command.constraint_type in ("check", "foreign key", "primary key", "unique")
    return command.action in ("set not null", "validate constraint", "attach partition")


def builds_index(command: SubCommand) -> bool:
    """ADD PRIMARY KEY, UNIQUE or EXCLUDE without USING INDEX builds an index under its lock."""
    kinds = ("primary key", "unique", "exclusion")
    return command.action in ("add constraint", "add column") and (
        command.constraint_type in kinds and not command.using_index
    )
