"""Which object a difference is about, as data, and where the YAML declares it.

A difference names its object three ways: migra's statement (read from its parse tree), a
catalog fact (PostgreSQL's kind and pg_identify_object's quoted identity, read by
PostgreSQL's lexer) or a catalog model object (whose fields hold schema, table and name).
Each becomes an `ObjectRef`; `locate` maps it to the compiled project's node keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemac.compiler import Compiled
from schemac.diagnostics import SourceLocation
from schemac.kinds import KINDS
from schemac.node_keys import node_key
from schemac.sql.classify import classify
from schemac.sql.names import label_names
from schemac.sql.parse import SqlSyntaxError


@dataclass(frozen=True)
class ObjectRef:
    """``kind`` as its source names it (``table``, ``trigger``, ``table constraint``, ...),
    ``name`` within its schema, and for a trigger, policy, constraint or column the table
    (``schema.table``) it belongs to."""

    kind: str
    schema: str | None
    name: str
    table: str | None = None  # a label; lookups use `schema` and `table_name`
    # The table's own name (its schema is `schema`): names may contain dots, so `table` is
    # never split to find it.
    table_name: str | None = field(default=None, compare=False)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def statement_ref(statement: str) -> ObjectRef | None:
    """The object a migra statement creates, alters, drops, grants on or comments on."""
    try:
        found = classify(statement)
    except SqlSyntaxError:
        return None
    if found.name is None:
        return None
    kind = found.object_kind or found.kind
    if found.member_of is not None and found.object_kind != "index":
        table = ".".join(p for p in found.member_of if p)
        return ObjectRef(kind, found.member_of[0], found.name, table, found.member_of[1])
    constraints = [s.constraint for s in found.subcommands if s.constraint]
    if found.kind == "alter table" and constraints:
        return ObjectRef("constraint", found.schema, constraints[0], found.qualified, found.name)
    return ObjectRef(kind, found.schema, found.name)


def identity_ref(kind: str, identity: str) -> ObjectRef:
    """A catalog fact's object: pg_identify_object's kind and identity (``core.users``,
    ``touch on core.users``, ``core.f(integer)``, ``core.users.email`` for a column)."""
    names = label_names(identity)
    if names.member is not None and names.table is not None and names.table_parts:
        schema, table = names.table_parts
        return ObjectRef(kind, schema, names.member, names.table, table)
    if names.qualified_parts:
        parts = names.qualified_parts[0]
        if kind in ("table column", "column") and len(parts) > 2:
            return ObjectRef(kind, parts[0], parts[2], f"{parts[0]}.{parts[1]}", parts[1])
        return ObjectRef(kind, parts[0], parts[1])
    return ObjectRef(kind, None, names.words[0] if names.words else identity)


def model_ref(kind: str, name: str, obj: Any) -> ObjectRef:
    """A catalog model object's reference, from its own fields (``table``, ``qname``)."""
    table, qname = getattr(obj, "table", None), getattr(obj, "qname", None)
    if kind != "index" and table is not None and hasattr(table, "schema"):
        return ObjectRef(kind, table.schema, obj.name, str(table), table.name)
    if qname is not None and hasattr(qname, "schema"):
        return ObjectRef(kind, qname.schema, qname.name)
    return ObjectRef(kind, None, name)


def _prefixes() -> dict[str, tuple[str, ...]]:
    """The node key prefixes (analyse.py) an object of each kind word may be declared under."""
    found: dict[str, tuple[str, ...]] = {}
    for kind in KINDS:
        if kind.located is not None:
            for word in kind.located.words:
                if kind.located.prefix not in found.get(word, ()):
                    found[word] = (*found.get(word, ()), kind.located.prefix)
    return found


_PREFIXES = _prefixes()
# Prefixes of the kinds keyed on their table (prefix:schema.table.name).
_PER_TABLE = frozenset(k.located.prefix for k in KINDS if k.located and k.located.per_table)
_ANY = ("relation", "type", "index", "function")


def _keys(ref: ObjectRef) -> list[str]:
    prefixes = _PREFIXES.get(ref.kind, _ANY)
    if ref.table is not None and ref.schema is not None and ref.table_name is not None:
        table = (ref.schema, ref.table_name)
        members = [node_key(p, *table, ref.name) for p in prefixes if p in _PER_TABLE]
        return [*members, node_key("relation", *table)]
    if ref.schema is None:
        return [node_key(p, ref.name) for p in prefixes]
    return [node_key(p, ref.schema, ref.name) for p in prefixes]


def locate(compiled: Compiled, ref: ObjectRef | None) -> SourceLocation | None:
    """Where the YAML declares the object (None when it does not, or nothing names it)."""
    if ref is None:
        return None
    by_key = {obj.node.key: obj.node.loc for obj in compiled.objects}
    for key in _keys(ref):
        if by_key.get(key) is not None:
            return by_key[key]
    return None
