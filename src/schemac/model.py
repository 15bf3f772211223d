"""The immutable model: what the YAML declares, with references resolved to qualified names.

Every object keeps the SourceLocation it came from (excluded from equality), so an error found
later, even one PostgreSQL raises while running the SQL rendered from it, points at the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemac.diagnostics import SourceLocation
from schemac.naming import label_part, quote_qualified

if TYPE_CHECKING:
    from schemac.external import ExternalObjects

# The privilege names GRANT takes, in the order schemac lists them; a table takes the first nine.
TABLE_PRIVILEGES = (
    "all",
    "select",
    "insert",
    "update",
    "delete",
    "truncate",
    "references",
    "trigger",
    "maintain",
)
PRIVILEGE_ORDER = (*TABLE_PRIVILEGES, "usage", "create", "execute")
# What GRANT ... (column) accepts (PostgreSQL: only these are column privileges).
COLUMN_PRIVILEGES = ("select", "insert", "update", "references")


@dataclass(frozen=True, order=True)
class QName:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def label(self) -> str:
        """The name in the catalog model: ``schema.name``, a part holding a dot or a quote
        double-quoted (``"a.b".c`` and ``a."b.c"`` are two tables; ``str()`` shows both as a.b.c)."""
        return f"{label_part(self.schema)}.{label_part(self.name)}"

    @property
    def sql(self) -> str:
        return quote_qualified(self.schema, self.name)


@dataclass(frozen=True)
class Grant:
    role: str
    privileges: tuple[str, ...]
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)  # the role's key
    # Those of `privileges` held WITH GRANT OPTION (`{select: with_grant_option}` in the YAML).
    grant_option: tuple[str, ...] = ()
    # Default privileges give this role more than the object declares: whatever PostgreSQL gave
    # at CREATE is revoked before the grants (kinds/default_privileges.py). How the ACL is
    # reached, not what it is: not compared.
    revoke_first: bool = field(default=False, compare=False, repr=False)


def grant_items(grant: Grant) -> list[str | dict[str, str]]:
    """The grant's privileges as the YAML lists them: ``{select: with_grant_option}`` for one
    held WITH GRANT OPTION, else the name."""
    return [{p: "with_grant_option"} if p in grant.grant_option else p for p in grant.privileges]


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str | None
    version: str | None
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class Role:
    name: str
    login: bool
    inherit: bool
    bypass_rls: bool
    create_role: bool
    create_db: bool
    connection_limit: int | None
    member_of: tuple[str, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class Schema:
    name: str
    owner: str | None
    comment: str | None
    grants: tuple[Grant, ...]
    loc: SourceLocation = field(compare=False, repr=False)
    # The public schema only: PUBLIC's built-in USAGE on it revoked (schemac.privileges).
    revoke_public: bool = False


@dataclass(frozen=True)
class Enum:
    qname: QName
    values: tuple[str, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    grants: tuple[Grant, ...] = ()
    revoke_public: bool = False  # PUBLIC's built-in USAGE revoked (schemac.privileges)


@dataclass(frozen=True)
class Domain:
    qname: QName
    type: str
    not_null: bool
    default: str | None
    collation: str | None
    checks: tuple[tuple[str, str], ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    grants: tuple[Grant, ...] = ()
    revoke_public: bool = False  # PUBLIC's built-in USAGE revoked (schemac.privileges)


@dataclass(frozen=True)
class Sequence:
    qname: QName
    type: str | None
    start: int | None
    increment: int | None
    min_value: int | None
    max_value: int | None
    cache: int | None
    cycle: bool
    owned_by: tuple[QName, str] | None
    grants: tuple[Grant, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str | None  # "always" | "by_default"
    generated: str | None
    collation: str | None
    renamed_from: str | None
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # partitions13: an identity's sequence options that differ from PostgreSQL's defaults for
    # the column's type and direction, as (option, value) in IDENTITY_OPTIONS order
    identity_options: tuple[tuple[str, int | bool], ...] = ()
    # partitions13: a generated column computed when read (PostgreSQL 18), not stored
    generated_virtual: bool = False
    # colpriv13: GRANT ... (column) (pg_attribute.attacl), exact like a table's grants; compared
    # as the column's privileges fact (facts.py), so not by the model comparison
    grants: tuple[Grant, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Constraint:
    """Primary key, unique, check or exclusion: rendered inside CREATE TABLE."""

    kind: str  # primary_key | unique | check | exclusion
    name: str
    columns: tuple[str, ...] = ()
    expression: str | None = None  # check
    nulls_not_distinct: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    using: str | None = None  # exclusion method
    elements: tuple[tuple[str, str], ...] = ()  # exclusion: (rendered element, operator)
    where: str | None = None
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)
    comment: str | None = None  # partitions13: COMMENT ON CONSTRAINT


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: QName
    columns: tuple[str, ...]
    ref_table: QName
    ref_columns: tuple[str, ...]
    on_delete: str | None
    on_update: str | None
    match: str | None
    deferrable: bool
    initially_deferred: bool
    loc: SourceLocation = field(compare=False, repr=False)
    comment: str | None = None  # partitions13: COMMENT ON CONSTRAINT


@dataclass(frozen=True)
class IndexElement:
    column: str | None
    expression: str | None
    order: str | None
    nulls: str | None
    opclass: str | None
    collation: str | None


@dataclass(frozen=True)
class Index:
    name: str
    table: QName  # the table or materialized view indexed
    elements: tuple[IndexElement, ...]
    unique: bool
    nulls_not_distinct: bool
    method: str | None
    where: str | None
    include: tuple[str, ...]
    storage: tuple[tuple[str, str], ...]
    concurrently: bool
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # partitions13: where `method:` is written (an extension's method is checked there)
    method_loc: SourceLocation | None = field(default=None, compare=False, repr=False)

    @property
    def qname(self) -> QName:
        return QName(self.table.schema, self.name)


@dataclass(frozen=True)
class Trigger:
    name: str
    table: QName
    timing: str
    events: tuple[str, ...]
    update_of: tuple[str, ...]
    for_each: str
    when: str | None
    function: QName
    arguments: tuple[str, ...]
    old_table: str | None
    new_table: str | None
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # ALTER TABLE ... ENABLE/DISABLE TRIGGER: enabled | disabled | replica | always
    enabled: str = "enabled"


@dataclass(frozen=True)
class Policy:
    name: str
    table: QName
    permissive: bool
    command: str
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class Partition:
    qname: QName
    parent: QName
    bound: str  # "FOR VALUES ..." or "DEFAULT"
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # partitions13: checks and unique keys declared on the partition itself (not its
    # parent's, which PostgreSQL copies), and its own partitioning (a sub-partitioned one)
    constraints: tuple[Constraint, ...] = ()
    partition_by: str | None = None
    # partown13: what PostgreSQL never passes down from the parent, so a partition holds its
    # own: row security flags, replica identity, grants (compared as ACL facts, as a table's)
    # and column grants (its own triggers and policies are Trigger and Policy objects on it)
    rls_enable: bool = False
    rls_force: bool = False
    replica_identity: str = "default"
    replica_identity_loc: SourceLocation | None = field(default=None, compare=False, repr=False)
    grants: tuple[Grant, ...] = field(default=(), compare=False)
    column_grants: tuple[ColumnGrants, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class ColumnGrants:
    """`column_grants:` of a partition: a column it has from its parent, granted on it alone."""

    name: str
    grants: tuple[Grant, ...]
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Table:
    qname: QName
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]
    unlogged: bool
    partition_by: str | None
    rls_enable: bool
    rls_force: bool
    renamed_from: str | None
    grants: tuple[Grant, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # serial columns create a sequence each; the schema's sequence_grants reach them too
    serial_sequences: tuple[str, ...] = ()
    sequence_grants: tuple[Grant, ...] = ()
    # REPLICA IDENTITY: default | full | nothing | index <name> (the catalog reads it; the YAML
    # cannot declare it yet, so a hand-made change is still found)
    replica_identity: str = "default"
    # where `replica_identity: {index: ...}` names its index (E373 points there)
    replica_identity_loc: SourceLocation | None = field(default=None, compare=False, repr=False)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class View:
    qname: QName
    query: str
    columns: tuple[str, ...]
    materialized: bool
    with_data: bool
    security_invoker: bool | None
    security_barrier: bool | None
    check_option: str | None
    depends_on: tuple[QName, ...]
    grants: tuple[Grant, ...]
    column_comments: tuple[tuple[str, str], ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)


@dataclass(frozen=True)
class Argument:
    name: str | None
    type: str
    mode: str | None
    default: str | None


@dataclass(frozen=True)
class Function:
    qname: QName
    is_procedure: bool
    language: str
    arguments: tuple[Argument, ...]
    returns: str | None  # rendered return type, e.g. "trigger", "SETOF x", "TABLE (...)"
    volatility: str | None
    strict: bool
    leakproof: bool
    security_definer: bool
    parallel: str | None
    cost: float | None
    rows: float | None
    settings: tuple[tuple[str, str], ...]
    body: str
    depends_on: tuple[QName, ...]
    grants: tuple[Grant, ...]
    comment: str | None
    loc: SourceLocation = field(compare=False, repr=False)
    # `returns: {table: ...}`: each column's name and rendered type (also inside `returns`)
    returns_columns: tuple[tuple[str, str], ...] = ()
    # PUBLIC's default EXECUTE revoked (privileges.revokes_public_default)
    revoke_public: bool = False

    @property
    def identity_arguments(self) -> str:
        """The argument types PostgreSQL identifies the routine by (OUT arguments excluded)."""
        return ", ".join(a.type for a in self.arguments if (a.mode or "in") != "out")


@dataclass(frozen=True)
class PublicationTable:
    table: QName
    columns: tuple[str, ...] = ()  # () = every column
    where: str | None = None  # the row filter


@dataclass(frozen=True)
class Publication:
    """A logical replication publication (`publications:`, schemac.kinds.publications)."""

    name: str
    all_tables: bool = False
    publish: tuple[str, ...] = ("insert", "update", "delete", "truncate")
    via_root: bool = False
    tables: tuple[PublicationTable, ...] = ()
    schemas: tuple[str, ...] = ()  # FOR TABLES IN SCHEMA
    comment: str | None = None
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SeedRows:
    table: QName
    key: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]  # values in `columns` order; MISSING means DEFAULT
    loc: SourceLocation = field(compare=False, repr=False)
    # where each key and column is first named, for errors about one column
    column_locs: tuple[tuple[str, SourceLocation], ...] = field(
        default=(), compare=False, repr=False
    )


MISSING = object()


@dataclass(frozen=True)
class UnitModel:
    """The objects one YAML file (or folder) declares."""

    index: int
    name: str
    schema: str | None
    files: tuple[str, ...]


@dataclass(frozen=True)
class Project:
    """Everything the YAML declares: each kind's (unit, object) pairs in declaration order,
    under the kind's project field (schemac.kinds). The typed fields are those code reads by
    name; a kind without one keeps its objects in `more`, and `of` reads either."""

    units: tuple[UnitModel, ...]
    extensions: tuple[tuple[int, Extension], ...]
    roles: tuple[tuple[int, Role], ...]
    schemas: tuple[tuple[int, Schema], ...]
    enums: tuple[tuple[int, Enum], ...]
    domains: tuple[tuple[int, Domain], ...]
    sequences: tuple[tuple[int, Sequence], ...]
    tables: tuple[tuple[int, Table], ...]
    partitions: tuple[tuple[int, Partition], ...]
    foreign_keys: tuple[tuple[int, ForeignKey], ...]
    indexes: tuple[tuple[int, Index], ...]
    views: tuple[tuple[int, View], ...]
    functions: tuple[tuple[int, Function], ...]
    triggers: tuple[tuple[int, Trigger], ...]
    policies: tuple[tuple[int, Policy], ...]
    seeds: tuple[tuple[int, SeedRows], ...]
    # what the project references but does not manage (schemac.external); never rendered
    external: ExternalObjects | None = field(default=None, compare=False)
    more: Mapping[str, tuple[tuple[int, Any], ...]] = field(default_factory=dict)

    def of(self, kind_field: str) -> tuple[tuple[int, Any], ...]:
        if kind_field in self.more:
            return self.more[kind_field]
        return getattr(self, kind_field)  # type: ignore[no-any-return]
