"""Foreign keys: `foreign_keys:` of a table and a column's `references:`; separate nodes, so
tables that reference each other are created first and constrained afterwards."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.diagnostics import SourceLocation, did_you_mean
from schemac.kinds.common import on_table
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import default_constraint_name

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import LocatedDict

# -- foreign keys ----------------------------------------------------------------------------


def build_foreign_keys(b: Builder, u: int, qname: m.QName, t: LocatedDict) -> None:
    for i, fk in enumerate(t.get("foreign_keys") or []):
        ref = fk["references"]
        b.add(
            "foreign_keys",
            u,
            m.ForeignKey(
                fk.get("name") or default_constraint_name(qname.name, list(fk["columns"]), "fkey"),
                qname,
                tuple(fk["columns"]),
                b.qualify(ref["table"], qname.schema, (ref, "table")),
                tuple(ref.get("columns", ())),
                fk.get("on_delete"),
                fk.get("on_update"),
                fk.get("match"),
                bool(fk.get("deferrable", False)),
                bool(fk.get("initially_deferred", False)),
                t["foreign_keys"].item_locations[i],
                fk.get("comment"),
            ),
        )


def add_column_reference(
    b: Builder, u: int, table: m.QName, column: str, ref: Any, loc: SourceLocation
) -> None:
    """A column's `references:`, a foreign key of that one column."""
    if isinstance(ref, str):
        # `[schema.]table[(column)]` in SQL's syntax: `"My Schema"."My Table"("Id")`.
        chain = b.name_chain(ref, loc, column=True)
        if chain is None:
            return
        target = (
            m.QName(*chain.parts)
            if len(chain.parts) == 2
            else m.QName(table.schema, chain.parts[0])
        )
        ref_columns: tuple[str, ...] = (chain.column,) if chain.column else ()
        options: dict[str, Any] = {}
    else:
        target = b.qualify(ref["table"], table.schema, (ref, "table"))
        ref_columns = (ref["column"],) if ref.get("column") else ()
        options = ref
    b.add(
        "foreign_keys",
        u,
        m.ForeignKey(
            options.get("name") or default_constraint_name(table.name, [column], "fkey"),
            table,
            (column,),
            target,
            ref_columns,
            options.get("on_delete"),
            options.get("on_update"),
            options.get("match"),
            bool(options.get("deferrable", False)),
            bool(options.get("initially_deferred", False)),
            loc,
            options.get("comment"),
        ),
    )


def resolve_foreign_keys(b: Builder) -> None:
    """A reference without columns means the referenced table's primary key."""
    tables = {t.qname: t for _, t in b.out["tables"]}
    resolved: list[tuple[int, Any]] = []
    for u, fk in b.out["foreign_keys"]:
        if not fk.ref_columns:
            target = tables.get(fk.ref_table)
            pk = (
                next((c for c in target.constraints if c.kind == "primary_key"), None)
                if target
                else None
            )
            if target is not None and pk is None:
                b.error(
                    "E311",
                    f"{fk.ref_table} has no primary key to reference",
                    fk.loc,
                    hint="name the referenced column: table(column)",
                )
            if pk is not None:
                fk = replace(fk, ref_columns=pk.columns)
        resolved.append((u, fk))
    b.out["foreign_keys"] = resolved


def _unique_index_keys(a: Analyser) -> dict[m.QName, list[str]]:
    found = a.memo.get("unique index keys")
    if found is None:
        found = {}
        for node in a.nodes.values():
            if node.kind == "index" and node.obj.unique:
                found.setdefault(node.obj.table, []).append(node.key)
        a.memo["unique index keys"] = found
    return found


def fk_edges(a: Analyser, fk: m.ForeignKey) -> set[str]:
    deps = {a.relation_keys[q] for q in (fk.table, fk.ref_table) if q in a.relation_keys}
    # The referenced key may be a unique index declared separately.
    deps.update(_unique_index_keys(a).get(fk.ref_table, ()))
    return deps


def check_foreign_keys(a: Analyser) -> None:
    for _, fk in a.p.foreign_keys:
        a.check_columns(fk.table, fk.columns, fk.loc, f"foreign key '{fk.name}'")
        if fk.ref_table not in a.tables:
            a.error(
                "E340",
                f"foreign key '{fk.name}' references unknown table {fk.ref_table}",
                fk.loc,
                hint=did_you_mean(str(fk.ref_table), [str(q) for q in a.tables]),
            )
            continue
        a.check_columns(fk.ref_table, fk.ref_columns, fk.loc, f"foreign key '{fk.name}'")
        if fk.ref_columns and len(fk.ref_columns) != len(fk.columns):
            a.error(
                "E341",
                f"foreign key '{fk.name}' has {len(fk.columns)} column(s) but references {len(fk.ref_columns)}",
                fk.loc,
            )
            continue
        if fk.ref_columns and frozenset(fk.ref_columns) not in a.unique_keys(fk.ref_table):
            a.error(
                "E342",
                f"foreign key '{fk.name}': ({', '.join(fk.ref_columns)}) of {fk.ref_table} is not a primary key or unique",
                fk.loc,
                hint="PostgreSQL requires a unique constraint on the referenced columns",
            )
    for node in a.nodes.values():
        if node.kind != "fk":
            continue
        for dep in sorted(node.deps):
            needed = a.nodes.get(dep)
            if needed is not None and needed.kind == "index" and needed.obj.concurrently:
                a.error(
                    "E352",
                    f"foreign key '{node.obj.name}' needs the unique index '{needed.obj.name}', "
                    "which is built concurrently in a migration of its own, after it",
                    node.loc,
                    hint="declare that key as a unique constraint, or drop concurrently:",
                )


FOREIGN_KEY = Kind(
    "fk",
    field="foreign_keys",
    table_member=True,
    nodes=on_table("fk", "fk"),
    located=Located("fk", ("foreign key", "constraint", "table constraint"), per_table=True),
    finish=resolve_foreign_keys,
    edges=fk_edges,
    check=check_foreign_keys,  # its name is the table's (tables.py: one constraint namespace)
    template="fk",
    comparison=Comparison(("foreign key",)),  # read with the tables (relations.py)
)
