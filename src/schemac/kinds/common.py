"""Small value rules the kinds' builders share."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from schemac.node_keys import node_key

if TYPE_CHECKING:
    from schemac.analyse import Analyser, NameClaims
    from schemac.catalog.relations import Relations
    from schemac.kinds.registry import Reading


def expression(text: Any) -> Any:
    """SQL as written; a trailing -- comment gets a line end so it cannot swallow what follows."""
    if isinstance(text, str) and "--" in text.rsplit("\n", 1)[-1]:
        return text + "\n"
    return text


def sql_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def one_node(kind: str, prefix: str) -> Any:
    """The `nodes` of a kind whose objects are one node each, keyed `prefix:qualified name`."""

    def nodes(obj: Any) -> tuple[tuple[str, str], ...]:
        return ((kind, node_key(prefix, obj.qname)),)

    return nodes


def on_table(kind: str, prefix: str) -> Any:
    """The `nodes` of a kind created on a table, keyed `prefix:schema.table.name`."""

    def nodes(obj: Any) -> tuple[tuple[str, str], ...]:
        return ((kind, node_key(prefix, obj.table, obj.name)),)

    return nodes


def imported_by(module: str, function: str) -> Any:
    """An import hook (`import_yaml`, `import_unit`) written in importer/: imported when it is
    called, because the importer reads the kinds."""

    def hook(*args: Any) -> Any:
        return getattr(importlib.import_module(module), function)(*args)

    return hook


def dollar_tag(body: str) -> str:
    """A dollar quote that does not occur in the body."""
    tag = "$body$"
    n = 0
    while tag in body:
        n += 1
        tag = f"$body{n}$"
    return tag


def claim_table_member_name(a: Analyser, obj: Any, claims: NameClaims) -> None:
    """The `names` of a kind whose objects are named per table (triggers, policies)."""
    claims.name(obj.name, obj.loc)


def relations_read(reading: Reading) -> Relations:
    """The relations the catalog reader read first, which table members are read against."""
    assert reading.relations is not None, "relations are read before triggers and policies"
    return reading.relations
