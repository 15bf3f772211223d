"""The object kinds, declared once each (`registry.Kind`), in creation order.

Every list of kinds the stages need is derived here: the YAML sections the builder reads, the
node phases of the graph, the GRANT privileges per kind, the catalog model's kinds and their
comparison rules. Adding a kind: docs/architecture.md, "Adding an object kind".
"""

from __future__ import annotations

from collections.abc import Mapping

from schemac.kinds.aggregates import AGGREGATE
from schemac.kinds.catalog_only import OTHER
from schemac.kinds.composites import COMPOSITE_TYPE
from schemac.kinds.default_privileges import DEFAULT_PRIVILEGES
from schemac.kinds.extensions import EXTENSION
from schemac.kinds.foreign_keys import FOREIGN_KEY
from schemac.kinds.indexes import INDEX
from schemac.kinds.partitions import PARTITION
from schemac.kinds.policies import POLICY
from schemac.kinds.publications import PUBLICATION
from schemac.kinds.ranges import RANGE_TYPE
from schemac.kinds.registry import Comparison, Kind, Reading
from schemac.kinds.replica_identity import REPLICA_IDENTITY
from schemac.kinds.roles import ROLE
from schemac.kinds.routines import FUNCTION
from schemac.kinds.schemas import SCHEMA
from schemac.kinds.seeds import SEED
from schemac.kinds.sequences import SEQUENCE, SEQUENCE_OWNER
from schemac.kinds.tables import TABLE
from schemac.kinds.triggers import TRIGGER
from schemac.kinds.types import DOMAIN, ENUM
from schemac.kinds.views import VIEW

# Creation order: within one unit, a kind earlier here is created first when the dependency
# graph leaves the choice; also the order the builder reads a document's sections in, the
# catalog reader's order and the order differences are reported in.
KINDS: tuple[Kind, ...] = (
    ROLE,
    EXTENSION,
    SCHEMA,
    DEFAULT_PRIVILEGES,
    ENUM,
    DOMAIN,
    COMPOSITE_TYPE,
    RANGE_TYPE,
    SEQUENCE,
    FUNCTION,
    AGGREGATE,
    TABLE,
    PARTITION,
    REPLICA_IDENTITY,
    SEQUENCE_OWNER,
    VIEW,
    INDEX,
    FOREIGN_KEY,
    TRIGGER,
    POLICY,
    SEED,
    PUBLICATION,
    OTHER,
)

BY_NAME: Mapping[str, Kind] = {kind.name: kind for kind in KINDS}
# Node kinds in creation order (the tie-break of the topological order).
PHASES: tuple[str, ...] = tuple(k.name for k in KINDS if k.nodes is not None or k.edges)
# Project fields (m.Project, the builder's lists) of every kind the YAML declares.
FIELDS: tuple[str, ...] = tuple(k.field for k in KINDS if k.field is not None)
# GRANT's privileges per kind word ("a table takes: ...").
PRIVILEGES_BY_KIND: Mapping[str, frozenset[str]] = {
    k.privileges[0]: k.privileges[1] for k in KINDS if k.privileges is not None
}
# Document keys that need a `schema:` (E302).
SCHEMA_SECTIONS: tuple[str, ...] = tuple(s for k in KINDS for s in k.sections)
# The catalog model's kinds, in the order differences are reported (dependencies first).
CATALOG_KINDS: tuple[str, ...] = tuple(c for k in KINDS for c in k.comparison.catalog_kinds)
COMPARISON_OF: Mapping[str, Comparison] = {
    c: k.comparison for k in KINDS for c in k.comparison.catalog_kinds
}
KIND_OF_CATALOG: Mapping[str, Kind] = {c: k for k in KINDS for c in k.comparison.catalog_kinds}

__all__ = [
    "BY_NAME",
    "CATALOG_KINDS",
    "COMPARISON_OF",
    "FIELDS",
    "KINDS",
    "KIND_OF_CATALOG",
    "PHASES",
    "PRIVILEGES_BY_KIND",
    "SCHEMA_SECTIONS",
    "Comparison",
    "Kind",
    "Reading",
]
