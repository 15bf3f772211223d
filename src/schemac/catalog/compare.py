"""Two catalog models compared attribute by attribute: every difference typed and named.

``current`` is the database being judged (the migrations replayed, or a live database),
``desired`` what the YAML builds. No difference means no difference in any attribute the
reader reads, model field or extra. A column order that differs while the columns are the
same is a warning of its own (ALTER TABLE can only append a column), never an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemac.catalog.contents import CatalogModel

ERROR = "error"
WARNING = "warning"

EXISTS = "exists"
COLUMN_ORDER = "column order"

# What each kind compares, skips and calls its parts: the kind's `Comparison` (schemac.kinds).
if TYPE_CHECKING:
    from schemac.kinds.registry import Comparison


@dataclass(frozen=True)
class ModelDifference:
    """One attribute of one object that differs (``exists``: the object is on one side only)."""

    kind: str  # a catalog KIND: table, function, trigger, ...
    name: str  # the object's name in the catalog model: core.users, touch on core.users
    attribute: str  # comment, column email: default, argument 1: default, acl, column order
    current: Any
    desired: Any
    severity: str = ERROR

    @property
    def object(self) -> str:
        # "other" objects are named by PostgreSQL's own kind: "aggregate app.total(integer)"
        return self.name if self.kind == "other" else f"{self.kind} {self.name}"

    def detail(self) -> str:
        if self.attribute == EXISTS or self.attribute.endswith(" present"):
            what = self.attribute.removesuffix(" present")
            prefix = "" if what == EXISTS else f"{what}: "
            return prefix + ("missing" if self.current is False else "not declared in the YAML")
        if self.attribute == COLUMN_ORDER:
            moved = ", ".join(misplaced_columns(self.current, self.desired))
            return (
                f"columns are in the order ({', '.join(self.current)}), the YAML declares "
                f"({', '.join(self.desired)}); ALTER TABLE can only append a column, so {moved} "
                "stays where it is: declare it last in the YAML to say so, or re-create the table "
                "by hand if the order matters"
            )
        return f"{self.attribute} is {_shown(self.current)}, the YAML says {_shown(self.desired)}"

    def describe(self) -> str:
        return f"{self.object}: {self.detail()}"


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def compare_models(
    current: CatalogModel,
    desired: CatalogModel,
    *,
    ignore: Callable[[ModelDifference], bool] | None = None,
) -> list[ModelDifference]:
    """Every difference between the two models, kind by kind, then by name, then by attribute."""
    # Imported here: the kinds import this package's readers.
    from schemac import kinds

    found: list[ModelDifference] = []
    for kind in kinds.CATALOG_KINDS:
        have, want = current.of(kind), desired.of(kind)
        for name in sorted(set(have) | set(want)):
            if name not in want or name not in have:
                found.append(ModelDifference(kind, name, EXISTS, name in have, name in want))
                continue
            out = _Collector(kind, name, kinds.COMPARISON_OF[kind])
            out.compare_object("", have[name], want[name])
            out.compare_extras(
                current.extras.get((kind, name), {}), desired.extras.get((kind, name), {})
            )
            found += out.found
    if ignore is not None:
        found = [difference for difference in found if not ignore(difference)]
    return found


class _Collector:
    def __init__(self, kind: str, name: str, rules: Comparison) -> None:
        self.kind, self.name = kind, name
        self.rules = rules
        self.found: list[ModelDifference] = []

    def add(self, attribute: str, current: Any, desired: Any, severity: str = ERROR) -> None:
        self.found.append(
            ModelDifference(self.kind, self.name, attribute, current, desired, severity)
        )

    def compare_object(self, prefix: str, current: Any, desired: Any) -> None:
        for spec in dataclasses.fields(current):
            if not spec.compare or spec.name in self.rules.not_compared:
                continue
            have, want = getattr(current, spec.name), getattr(desired, spec.name)
            singular = self.rules.parts.get(spec.name)
            if singular is not None and _sub_objects(have, want):
                self.compare_parts(prefix, singular, have, want)
            elif have != want:
                self.add(prefix + spec.name.replace("_", " "), have, want)

    def compare_parts(
        self, prefix: str, singular: str, current: Sequence[Any], desired: Sequence[Any]
    ) -> None:
        named = all(hasattr(part, "name") for part in (*current, *desired))
        if singular in self.rules.positional or not named:
            if len(current) != len(desired):
                self.add(f"{prefix}{singular}s", tuple(current), tuple(desired))
                return
            for position, (have, want) in enumerate(zip(current, desired, strict=True), 1):
                self.compare_object(f"{prefix}{singular} {position}: ", have, want)
            return
        have_by_name = {part.name: part for part in current}
        want_by_name = {part.name: part for part in desired}
        for part_name in [p.name for p in desired] + [p.name for p in current]:
            if part_name in have_by_name and part_name in want_by_name:
                self.compare_object(
                    f"{prefix}{singular} {part_name}: ",
                    have_by_name.pop(part_name),
                    want_by_name.pop(part_name),
                )
            elif part_name in want_by_name:
                self.add(f"{prefix}{singular} {part_name} present", False, True)
                want_by_name.pop(part_name)
            elif part_name in have_by_name:
                self.add(f"{prefix}{singular} {part_name} present", True, False)
                have_by_name.pop(part_name)
        if singular == "column" and not prefix:
            common = {p.name for p in current} & {p.name for p in desired}
            have_order = tuple(p.name for p in current if p.name in common)
            want_order = tuple(p.name for p in desired if p.name in common)
            if have_order != want_order:
                self.add(COLUMN_ORDER, have_order, want_order, WARNING)

    def compare_extras(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> None:
        for attribute in sorted(set(current) | set(desired)):
            have, want = current.get(attribute), desired.get(attribute)
            if have != want:
                self.add(attribute, have, want)


def _sub_objects(current: Any, desired: Any) -> bool:
    parts = (
        (*current, *desired) if isinstance(current, tuple) and isinstance(desired, tuple) else ()
    )
    return bool(parts) and all(dataclasses.is_dataclass(part) for part in parts)


def misplaced_columns(current: Sequence[str], desired: Sequence[str]) -> list[str]:
    """The fewest columns whose moving turns ``current``'s order into ``desired``'s.

    The columns outside a longest common subsequence of the two orders: for a column the YAML
    declares mid-table and ALTER TABLE appended, that is exactly the new column.
    """
    rows, cols = len(current), len(desired)
    length = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            length[i][j] = (
                length[i + 1][j + 1] + 1
                if current[i] == desired[j]
                else max(length[i + 1][j], length[i][j + 1])
            )
    kept: set[str] = set()
    i = j = 0
    while i < rows and j < cols:
        if current[i] == desired[j]:
            kept.add(current[i])
            i, j = i + 1, j + 1
        elif length[i + 1][j] > length[i][j + 1]:
            i += 1
        else:  # on a tie keep the current order's earlier column: the appended one moves
            j += 1
    return [name for name in desired if name not in kept]
