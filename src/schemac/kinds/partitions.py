"""Partitions of a partitioned table (`partitions:` under the table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.kinds import foreign_keys, policies, triggers
from schemac.kinds.common import one_node
from schemac.kinds.indexes import build_index
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.kinds.replica_identity import replica_identity_location, replica_identity_of
from schemac.located import LocatedDict
from schemac.naming import quote_literal
from schemac.sql.parse import partition_columns

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document

# -- partitions ------------------------------------------------------------------------------


def _bound_literal(value: Any) -> str:
    if isinstance(value, str) and value.lower() in ("minvalue", "maxvalue"):
        return value.upper()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return quote_literal(str(value))


def partition_bound(part: dict[str, Any]) -> str:
    if part.get("default"):
        return "DEFAULT"
    if "in" in part:
        return "FOR VALUES IN (" + ", ".join(_bound_literal(v) for v in part["in"]) + ")"
    if "modulus" in part:
        return f"FOR VALUES WITH (MODULUS {part['modulus']}, REMAINDER {part['remainder']})"
    frm = ", ".join(_bound_literal(v) for v in part["from"])
    to = ", ".join(_bound_literal(v) for v in part["to"])
    return f"FOR VALUES FROM ({frm}) TO ({to})"


def build_partitions(
    b: Builder,
    u: int,
    qname: m.QName,
    t: LocatedDict,
    partition_by: str | None,
    doc: Document,
    path: list[Any],
) -> None:
    """The partitions of a table (or of a partition), each with what is declared on it:
    indexes, keys, checks and foreign keys of its own, its triggers, policies, row security,
    replica identity and grants (`_own_access`), and its own partitions."""
    from schemac.kinds.tables import (  # tables imports this
        partition_by_sql,
        primary_key,
        table_constraints,
    )

    for part_name, part in (t.get("partitions") or {}).items():
        loc = t["partitions"].key_locations[part_name]
        if partition_by is None:
            b.error("E308", f"'{qname.name}' has partitions but no partition_by", loc)
            continue
        part_qname = m.QName(qname.schema, part_name)
        part_path = [*path, "partitions", part_name]
        for i, ix in enumerate(part.get("indexes") or []):
            build_index(b, u, part_qname, ix, part["indexes"].item_locations[i])
        foreign_keys.build_foreign_keys(b, u, part_qname, part)
        own_partition_by = partition_by_sql(part)
        own_key = primary_key(b, part_name, part, [], doc, part_path)
        b.add(
            "partitions",
            u,
            m.Partition(
                part_qname,
                qname,
                partition_bound(part),
                part.get("comment"),
                loc,
                (
                    *([own_key] if own_key else []),
                    *table_constraints(part_name, part, doc, part_path),
                ),
                own_partition_by,
                **_own_access(b, u, part_qname, part, doc, part_path),
            ),
        )
        build_partitions(b, u, part_qname, part, own_partition_by, doc, part_path)


def _own_access(
    b: Builder, u: int, qname: m.QName, part: LocatedDict, doc: Document, path: list[Any]
) -> dict[str, Any]:
    """What PostgreSQL never passes down from the parent, declared on the partition as on a
    table: its triggers (a parent's row trigger is cloned to it and not declared here), its
    policies and row security flags, its replica identity, grants and column grants."""
    triggers.build_triggers(b, u, qname, part)
    rls_enable, rls_force = policies.build_policies(b, u, qname, part, doc, path)
    column_grants: LocatedDict = part.get("column_grants") or LocatedDict()
    return {
        "rls_enable": rls_enable,
        "rls_force": rls_force,
        "replica_identity": replica_identity_of(part.get("replica_identity")),
        "replica_identity_loc": replica_identity_location(part),
        "grants": b.grants(part.get("grants")),
        "column_grants": tuple(
            m.ColumnGrants(column, b.grants(grants), column_grants.key_locations[column])
            for column, grants in column_grants.items()
        ),
    }


def partition_edges(a: Analyser, part: m.Partition) -> set[str]:
    parent = a.relation_keys.get(part.parent)
    deps = {parent} if parent else set()
    return deps | a.grant_dependencies(part.grants)


def partition_names(a: Analyser, part: m.Partition, claims: NameClaims) -> None:
    claims.claim("relations", part.qname, "partition", part.loc)
    claims.claim("types", part.qname, "partition (its row type)", part.loc)
    for con in part.constraints:
        if con.kind in ("primary_key", "unique", "exclusion"):
            claims.claim(
                "relations",
                m.QName(part.qname.schema, con.name),
                f"index of constraint on {part.qname}",
                con.loc,
            )
        claims.name(con.name, con.loc)


_BOUND_OF = {"RANGE": "FOR VALUES FROM", "LIST": "FOR VALUES IN", "HASH": "FOR VALUES WITH"}
_BOUND_HINT = {"RANGE": "use from/to", "LIST": "use in", "HASH": "use modulus/remainder"}


def root_table(a: Analyser, qname: m.QName) -> m.Table | None:
    """The partitioned table a partition (or a partition of a partition) belongs to."""
    parents = a.memo.get("partition parents")
    if parents is None:
        parents = a.memo["partition parents"] = {p.qname: p.parent for _, p in a.p.partitions}
    seen: set[m.QName] = set()
    while qname in parents and qname not in seen:
        seen.add(qname)
        qname = parents[qname]
    return a.tables.get(qname)


def _partition_by_of(a: Analyser, qname: m.QName) -> str | None:
    table = a.tables.get(qname)
    if table is not None:
        return table.partition_by
    return next((p.partition_by for _, p in a.p.partitions if p.qname == qname), None)


def check_partitions(a: Analyser) -> None:
    triggers: dict[m.QName, list[m.Trigger]] = {}
    for _, trigger in a.p.triggers:
        triggers.setdefault(trigger.table, []).append(trigger)
    for _, part in a.p.partitions:
        strategy = (_partition_by_of(a, part.parent) or "").split(" ")[0]
        expected = _BOUND_OF.get(strategy)
        if part.bound != "DEFAULT" and expected and not part.bound.startswith(expected):
            a.error(
                "E333",
                f"partition {part.qname} does not fit the {strategy.lower()} partitioning of {part.parent}",
                part.loc,
                hint=_BOUND_HINT[strategy],
            )
        _check_own_primary_key(a, part)
        if part.partition_by:
            check_keys_hold_partition_key(a, part.qname, part.constraints, part.partition_by)
        _check_own_triggers(a, part, triggers)
        for column in part.column_grants:
            what = f"column_grants of partition {part.qname}"
            a.check_columns(part.qname, (column.name,), column.loc or part.loc, what)
        if strategy == "HASH" and part.bound == "DEFAULT":
            a.error("E333", "a hash-partitioned table cannot have a default partition", part.loc)


def _check_own_primary_key(a: Analyser, part: m.Partition) -> None:
    """PostgreSQL refuses a partition's own primary key while a table above it has one (that
    one is copied to it): "multiple primary keys" (and the other way round, so a table above
    cannot get one while a partition has its own)."""
    own = next((c for c in part.constraints if c.kind == "primary_key"), None)
    if own is None:
        return
    above = _ancestor_with_primary_key(a, part.parent)
    if above is not None:
        a.error(
            "E334",
            f"partition {part.qname} declares primary key {own.name}, but {above} above it "
            "has one, which PostgreSQL copies to its partitions",
            own.loc,
            hint=f"remove this primary_key (the partition has {above}'s) or {above}'s",
        )


def check_keys_hold_partition_key(
    a: Analyser, qname: m.QName, constraints: tuple[m.Constraint, ...], partition_by: str
) -> None:
    """PostgreSQL refuses a primary key or unique constraint of a partitioned table (or of a
    partition partitioned again) that lacks a column of its partition key: "unique constraint
    on partitioned table must include all partitioning columns"."""
    key = partition_columns(partition_by)
    for con in constraints:
        if con.kind not in ("primary_key", "unique"):
            continue
        missing = [c for c in key if c not in con.columns]
        if missing:
            what = "primary key" if con.kind == "primary_key" else "unique key"
            a.error(
                "E335",
                f"{what} {con.name} of {qname} lacks its partition key column(s) "
                f"{', '.join(missing)}: PostgreSQL requires every partitioning column in it",
                con.loc,
                hint=f"add {', '.join(missing)} to the {what}'s columns",
            )


def _check_own_triggers(
    a: Analyser, part: m.Partition, triggers: dict[m.QName, list[m.Trigger]]
) -> None:
    """A row trigger of a table above is cloned to the partition under its own name, so the
    partition cannot declare one of that name ("trigger ... already exists")."""
    cloned: dict[str, m.QName] = {}
    for above in _ancestors(a, part.parent) if part.qname in triggers else ():
        for trigger in triggers.get(above, ()):
            if trigger.for_each == "row":
                cloned.setdefault(trigger.name, above)
    for trigger in triggers.get(part.qname, ()) if cloned else ():
        if trigger.name in cloned:
            a.error(
                "E336",
                f"partition {part.qname} declares trigger '{trigger.name}', but "
                f"{cloned[trigger.name]}'s row trigger of that name is cloned to it by PostgreSQL",
                trigger.loc,
                hint="rename this trigger (or drop it: the cloned one fires on this partition)",
            )


def _ancestors(a: Analyser, qname: m.QName) -> list[m.QName]:
    """`qname` and every table or partition above it (the partitioned table last)."""
    found: list[m.QName] = []
    while qname not in found:
        found.append(qname)
        above = a.partitions.get(qname)
        if above is None:
            break
        qname = above.parent
    return found


def _ancestor_with_primary_key(a: Analyser, qname: m.QName) -> m.QName | None:
    """The nearest table or partition from `qname` up that has a primary key."""
    seen: set[m.QName] = set()
    while qname not in seen:
        seen.add(qname)
        above: m.Table | m.Partition | None = a.tables.get(qname) or a.partitions.get(qname)
        if above is None:
            return None
        if any(c.kind == "primary_key" for c in above.constraints):
            return qname
        if isinstance(above, m.Table):
            return None
        qname = above.parent
    return None


PARTITION = Kind(
    "partition",
    field="partitions",
    nodes=one_node("partition", "relation"),
    located=Located("relation", ("partition",)),
    namespaces=("relation",),
    edges=partition_edges,
    check=check_partitions,
    names=partition_names,
    template="partition",
    privileges=("table", frozenset(m.TABLE_PRIVILEGES)),
    # Read with the tables (relations.py).
    comparison=Comparison(
        ("partition",),
        # grants are compared as ACL facts (facts.py), as a table's are
        frozenset({"loc", "grants", "column_grants"}),
        {"constraints": "constraint"},
    ),
)
