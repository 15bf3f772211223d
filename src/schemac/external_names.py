"""What analyse knows of external objects (schemac.external): their names, never as nodes."""

from __future__ import annotations

from typing import Any

from schemac import model as m
from schemac.diagnostics import SourceLocation
from schemac.external import ExternalObjects
from schemac.node_keys import node_key
from schemac.types import EXTENSION_TYPES


def know_external(analyser: Any, externals: ExternalObjects | None) -> None:
    """Make analyse's name tables know the external objects (never as nodes: nothing creates
    them), so references to them validate and a reference to an undeclared one still fails."""
    # A declared extension's types are known qualified too (`extensions.vector(3)`), and
    # depend on that extension.
    for _, extension in analyser.p.extensions:
        for name in EXTENSION_TYPES.get(extension.name, ()):
            qname = m.QName(extension.schema or "public", name)
            analyser.type_keys.setdefault(qname, node_key("extension", extension.name))
    if externals is None:
        return
    analyser.schemas.update(externals.schemas, externals.shared_schemas)
    analyser.roles.update(externals.roles)
    managed = {
        **{t: "table" for t in analyser.tables},
        **{f: "routine" for f in analyser.functions},
        **{t.qname: "type" for _, t in (*analyser.p.enums, *analyser.p.domains)},
    }
    declared: list[tuple[m.QName, SourceLocation]] = [
        *((t.qname, t.loc) for t in externals.tables),
        *((f.qname, f.loc) for f in externals.functions),
        *((t.qname, t.loc) for t in externals.types),
    ]
    for qname, loc in declared:
        if qname in managed:
            analyser.error(
                "E390",
                f"{qname} is declared external and as a {managed[qname]} of the project",
                loc,
                hint="an object is either the project's or external: remove one declaration",
            )
    for table in externals.tables:
        analyser.tables.setdefault(table.qname, table)
        analyser.type_keys.setdefault(table.qname, node_key("external", table.qname))
    for function in externals.functions:
        analyser.functions.setdefault(function.qname, function)
    for ty in externals.types:
        analyser.type_keys.setdefault(ty.qname, node_key("external", ty.qname))
