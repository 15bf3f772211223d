"""Seed rows of a table (`seed:`): no node of the graph; rendered as repeatable upserts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemac import model as m
from schemac.diagnostics import SourceLocation
from schemac.kinds.registry import Kind
from schemac.seeds import seed_column_locations

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import LocatedDict


def build_seed(b: Builder, u: int, table: m.QName, seed: LocatedDict, loc: SourceLocation) -> None:
    columns: list[str] = []
    for row in seed["rows"]:
        for col in row:
            if col not in columns:
                columns.append(col)
    rows = tuple(tuple(row.get(c, m.MISSING) for c in columns) for row in seed["rows"])
    b.add(
        "seeds",
        u,
        m.SeedRows(
            table, tuple(seed["key"]), tuple(columns), rows, loc, seed_column_locations(seed)
        ),
    )


def _check_key(a: Analyser, seed: m.SeedRows) -> None:
    if frozenset(seed.key) not in a.unique_keys(seed.table):
        a.error(
            "E380",
            f"seed key ({', '.join(seed.key)}) of {seed.table} is not its primary key or a unique constraint",
            seed.loc,
            hint="upserts need ON CONFLICT on a unique key",
        )
    for i, row in enumerate(seed.rows):
        values = dict(zip(seed.columns, row, strict=True))
        for col in seed.key:
            if values.get(col, m.MISSING) is m.MISSING:
                a.error(
                    "E381",
                    f"seed row {i + 1} of {seed.table} has no value for key column '{col}'",
                    seed.loc,
                )


def check(a: Analyser) -> None:
    for _, seed in a.p.seeds:
        named_at = dict(seed.column_locs)
        for named in dict.fromkeys([*seed.key, *seed.columns]):
            a.check_columns(seed.table, [named], named_at.get(named, seed.loc), "seed")
        table = a.tables.get(seed.table)
        for column in table.columns if table else ():
            if column.generated and column.name in seed.columns:
                a.error(
                    "E382",
                    f"seed of {seed.table} sets '{column.name}', a generated column",
                    seed.loc,
                    hint="PostgreSQL computes it: leave it out of the rows",
                )
        _check_key(a, seed)


SEED = Kind("seed", field="seeds", check=check, template="seed")
