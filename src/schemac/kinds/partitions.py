"""Partitions of a partitioned table (`partitions:` under the table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.kinds.common import one_node
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import quote_literal

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import LocatedDict

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
    b: Builder, u: int, qname: m.QName, t: LocatedDict, partition_by: str | None
) -> None:
    for part_name, part in (t.get("partitions") or {}).items():
        loc = t["partitions"].key_locations[part_name]
        if partition_by is None:
            b.error("E308", f"'{qname.name}' has partitions but no partition_by", loc)
            continue
        b.add(
            "partitions",
            u,
            m.Partition(
                m.QName(qname.schema, part_name),
                qname,
                partition_bound(part),
                part.get("comment"),
                loc,
            ),
        )


def partition_edges(a: Analyser, part: m.Partition) -> set[str]:
    parent = a.relation_keys.get(part.parent)
    return {parent} if parent else set()


def partition_names(a: Analyser, part: m.Partition, claims: NameClaims) -> None:
    claims.claim("relations", part.qname, "partition", part.loc)
    claims.claim("types", part.qname, "partition (its row type)", part.loc)


_BOUND_OF = {"RANGE": "FOR VALUES FROM", "LIST": "FOR VALUES IN", "HASH": "FOR VALUES WITH"}
_BOUND_HINT = {"RANGE": "use from/to", "LIST": "use in", "HASH": "use modulus/remainder"}


def check_partitions(a: Analyser) -> None:
    for _, part in a.p.partitions:
        parent = a.tables[part.parent]
        strategy = (parent.partition_by or "").split(" ")[0]
        expected = _BOUND_OF.get(strategy)
        if part.bound != "DEFAULT" and expected and not part.bound.startswith(expected):
            a.error(
                "E333",
                f"partition {part.qname} does not fit the {strategy.lower()} partitioning of {part.parent}",
                part.loc,
                hint=_BOUND_HINT[strategy],
            )
        if strategy == "HASH" and part.bound == "DEFAULT":
            a.error("E333", "a hash-partitioned table cannot have a default partition", part.loc)


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
    comparison=Comparison(("partition",)),  # read with the tables (relations.py)
)
