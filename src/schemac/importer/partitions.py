"""Partitioned tables: the partition key and each partition's bounds, read by the SQL parser."""

from __future__ import annotations

from typing import Any

from pglast import ast

from schemac import model as m
from schemac.importer.context import Context
from schemac.importer.extras import report_extras
from schemac.importer.indexes import index_yaml
from schemac.importer.names import printed, statement
from schemac.kinds.replica_identity import yaml_of as replica_identity_yaml
from schemac.naming import member_label


def partition_by_yaml(ctx: Context, table: m.Table | m.Partition) -> dict[str, Any]:
    """``RANGE (a, lower(b))`` -> {strategy: range, key: [a, lower(b)]}, read by the parser."""
    spec = statement(f"CREATE TABLE x () PARTITION BY {table.partition_by}").partspec
    keys: list[str] = []
    for element in spec.partParams:
        if element.name is not None:
            keys.append(element.name)
        else:
            keys.append(printed(element.expr))
        if element.collation or element.opclass:
            ctx.notes.lost(
                "table" if isinstance(table, m.Table) else "partition",
                table.qname.label,
                "partition key collation or operator class",
                str(table.partition_by),
            )
    strategy = (
        {"r": "range", "l": "list", "h": "hash"}[str(spec.strategy)[0].lower()]
        if len(str(spec.strategy)) == 1
        else str(spec.strategy).split(".")[-1].lower()
    )
    return {"strategy": strategy, "key": keys}


def _datum(node: Any) -> Any:
    """A partition bound's value: MINVALUE/MAXVALUE, a literal, or (never seen) an expression."""
    if isinstance(node, ast.ColumnRef):
        return str(getattr(node.fields[0], "sval", ""))  # type: ignore[index]
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None
        value: Any = node.val
        if isinstance(value, ast.Integer):
            return int(value.ival or 0)
        if isinstance(value, ast.Float):
            return str(value.fval)
        if isinstance(value, ast.Boolean):
            return bool(value.boolval)
        return str(value.sval)
    return printed(node)


def partition_yaml(
    ctx: Context, partition: m.Partition, parent: m.Table | m.Partition
) -> dict[str, Any]:
    name = partition.qname.label
    if partition.qname.schema != parent.qname.schema:
        ctx.names.refused.append(f"partition {name} of {parent.qname} (in another schema)")
    ctx.names.check(f"partition of {parent.qname}", partition.qname.name)
    out: dict[str, Any] = {}
    if partition.bound == "DEFAULT":
        out["default"] = True
    else:
        spec = statement(f"CREATE TABLE x PARTITION OF y {partition.bound}").partbound
        if spec.listdatums:
            out["in"] = [_datum(d) for d in spec.listdatums]
        elif spec.lowerdatums:
            out["from"] = [_datum(d) for d in spec.lowerdatums]
            out["to"] = [_datum(d) for d in spec.upperdatums]
        else:
            out["modulus"] = int(spec.modulus)
            out["remainder"] = int(spec.remainder)
    if partition.comment is not None:
        out["comment"] = partition.comment
    _own_objects(ctx, partition, out)
    # the ACLs are imported as grants: and column_grants: (_own_access)
    columns = frozenset(f"column {c.name}: acl" for c in partition.column_grants)
    report_extras(
        ctx.source.catalog,
        "partition",
        name,
        ctx.notes,
        ctx.source.current_user,
        frozenset({"acl"}) | columns,
    )
    return out


def _own_access(ctx: Context, partition: m.Partition, out: dict[str, Any]) -> None:
    """What PostgreSQL never passes down from the parent, as a table's YAML writes it: the
    partition's own triggers (not the clones of its parent's, which the catalog does not read
    as its own), row security flags, policies, grants, column grants and replica identity."""
    from schemac.importer.policies import plain_policies, triggers_of  # imports this

    name = partition.qname.label
    related = ctx.by_relation.get(name, {})
    triggers = triggers_of(ctx, related.get("trigger", []), partition.qname.schema)
    if triggers:
        out["triggers"] = triggers
    if partition.rls_enable or partition.rls_force:
        out["row_level_security"] = {"enable": partition.rls_enable, "force": partition.rls_force}
    policies = plain_policies(ctx, partition.qname, related.get("policy", []))
    if policies:
        out["policies"] = policies
    grants = ctx.grants("partition", name, partition.grants)
    if grants:
        out["grants"] = grants
    column_grants = {
        c.name: ctx.grants("column", f"{name}.{c.name}", c.grants) for c in partition.column_grants
    }
    if column_grants:
        out["column_grants"] = column_grants
    if partition.replica_identity != "default":
        out["replica_identity"] = replica_identity_yaml(partition.replica_identity)


def _own_objects(ctx: Context, partition: m.Partition, out: dict[str, Any]) -> None:
    """What the partition declares itself: its keys (a primary key too), checks, foreign keys
    and indexes (not PostgreSQL's copies of its parent's, which the catalog does not read as
    its own), its triggers, security and grants, and its own partitioning with its partitions."""
    from schemac.importer.tables import constraints_yaml, foreign_key_yaml  # imports this

    name = partition.qname.label
    related = ctx.by_relation.get(name, {})
    # A primary key of its own too (PostgreSQL allows one while no table above has one).
    constraints_yaml(ctx, partition.qname, partition.constraints, set(), out)
    keys = [
        foreign_key_yaml(ctx, fk, partition.qname.schema) for fk in related.get("foreign key", [])
    ]
    if keys:
        out["foreign_keys"] = keys
    for fk in related.get("foreign key", []):
        report_extras(
            ctx.source.catalog,
            "foreign key",
            member_label(fk.name, partition.qname.label),
            ctx.notes,
            ctx.source.current_user,
        )
    indexes = [index_yaml(ctx, ix) for ix in related.get("index", [])]
    if indexes:
        out["indexes"] = indexes
    _own_access(ctx, partition, out)
    if partition.partition_by:
        out["partition_by"] = partition_by_yaml(ctx, partition)
        parts = sorted(related.get("partition", []), key=lambda p: p.qname.name)
        if parts:
            out["partitions"] = {p.qname.name: partition_yaml(ctx, p, partition) for p in parts}
