"""Sequences, and the OWNED BY that follows the owning table (a node of its own: seqowner)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.types import read_sequences
from schemac.kinds.common import imported_by
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.node_keys import node_key
from schemac.validate import locate

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.loader import Document

SEQUENCE_PRIVILEGES = frozenset({"all", "usage", "select", "update"})


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    assert schema is not None
    data = doc.data
    for name, seq in (data.get("sequences") or {}).items():
        owned_by = None
        if seq.get("owned_by"):
            chain = b.name_chain(str(seq["owned_by"]), (seq, "owned_by"))
            if chain is not None and len(chain.parts) != 2:
                b.error(
                    "E312",
                    "owned_by must be 'table.column'",
                    locate(doc, ["sequences", name, "owned_by"]),
                )
            elif chain is not None:
                owned_by = (m.QName(schema, chain.parts[0]), chain.parts[1])
        b.add(
            "sequences",
            u,
            m.Sequence(
                m.QName(schema, name),
                seq.get("type"),
                seq.get("start"),
                seq.get("increment"),
                seq.get("min_value"),
                seq.get("max_value"),
                seq.get("cache"),
                bool(seq.get("cycle", False)),
                owned_by,
                b.grants(data.get("sequence_grants"), seq.get("grants")),
                seq.get("comment"),
                data["sequences"].key_locations[name],
            ),
        )


def _nodes(seq: Any) -> tuple[tuple[str, str], ...]:
    sequence = ("sequence", node_key("relation", seq.qname))
    return (
        (sequence, ("seqowner", node_key("seqowner", seq.qname))) if seq.owned_by else (sequence,)
    )


def edges(a: Analyser, seq: m.Sequence) -> set[str]:
    return a.grant_dependencies(seq.grants)


def owner_edges(a: Analyser, seq: m.Sequence) -> set[str]:
    deps = {node_key("relation", seq.qname)}
    owner = a.relation_keys.get(seq.owned_by[0]) if seq.owned_by else None
    if owner:
        deps.add(owner)
    return deps


def names(a: Analyser, seq: m.Sequence, claims: NameClaims) -> None:
    claims.claim("relations", seq.qname, "sequence", seq.loc)


def check(a: Analyser) -> None:
    for _, seq in a.p.sequences:
        if seq.owned_by:
            owner, column = seq.owned_by
            if owner not in a.tables:
                a.error("E332", f"owned_by: unknown table {owner}", seq.loc)
            else:
                a.check_columns(owner, [column], seq.loc, "owned_by")


SEQUENCE = Kind(
    "sequence",
    field="sequences",
    sections=("sequences", "sequence_grants"),
    build=build,
    nodes=_nodes,
    located=Located("relation", ("sequence",)),
    namespaces=("relation",),
    edges=edges,
    check=check,
    names=names,
    template="sequence",
    privileges=("sequence", SEQUENCE_PRIVILEGES),
    reader=lambda conn, out, reading: read_sequences(conn, out, reading.skipped),
    comparison=Comparison(("sequence",), frozenset({"loc", "grants"})),
    import_yaml=imported_by("schemac.importer.routines", "sequence_yaml"),
    grants_section="sequence_grants",
)

# Its nodes come from the sequences (`nodes` above); it is a phase and a template of its own.
SEQUENCE_OWNER = Kind("seqowner", edges=owner_edges, template="seqowner")
