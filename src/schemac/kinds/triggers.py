"""Triggers of a table or view (`triggers:`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemac import model as m
from schemac.catalog.routines import read_triggers
from schemac.diagnostics import did_you_mean
from schemac.kinds.common import claim_table_member_name, on_table, relations_read
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.kinds.routines import returns_trigger
from schemac.sqlfields import items

if TYPE_CHECKING:
    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.loader import LocatedDict
    from schemac.sqlfields import FieldChecker

# -- triggers --------------------------------------------------------------------------------


def trigger_fields(checker: FieldChecker, t: LocatedDict) -> None:
    for trigger_name, trigger in items(t.get("triggers")):
        checker.sql(trigger, "when", f"the when of trigger '{trigger_name}'")


def build_triggers(b: Builder, u: int, qname: m.QName, t: LocatedDict) -> None:
    for trig_name, tr in (t.get("triggers") or {}).items():
        ref = tr.get("referencing") or {}
        b.add(
            "triggers",
            u,
            m.Trigger(
                trig_name,
                qname,
                tr["timing"],
                tuple(tr["events"]),
                tuple(tr.get("update_of", ())),
                tr.get("for_each", "statement"),
                tr.get("when"),
                b.qualify(tr["function"], qname.schema, (tr, "function")),
                tuple(str(a) for a in tr.get("arguments", ())),
                ref.get("old_table"),
                ref.get("new_table"),
                tr.get("comment"),
                t["triggers"].key_locations[trig_name],
            ),
        )


def trigger_edges(a: Analyser, tr: m.Trigger) -> set[str]:
    deps = a.sql_dependencies(tr.when)
    if tr.table in a.relation_keys:
        deps.add(a.relation_keys[tr.table])
    if tr.function in a.function_keys:
        deps.add(a.function_keys[tr.function])
    return deps


def _check_trigger_function(a: Analyser, tr: m.Trigger) -> None:
    fn = a.functions.get(tr.function)
    if fn is None:
        if tr.function.schema in a.schemas or tr.function.schema == tr.table.schema:
            a.error(
                "E364",
                f"trigger '{tr.name}' calls unknown function {tr.function}",
                tr.loc,
                hint=did_you_mean(
                    str(tr.function),
                    # only a function that returns trigger is worth suggesting
                    [str(q) for q, f in a.functions.items() if returns_trigger(f)],
                ),
            )
    elif not returns_trigger(fn):
        a.error("E365", f"trigger '{tr.name}': function {tr.function} must return trigger", tr.loc)


def check_triggers(a: Analyser) -> None:
    for _, tr in a.p.triggers:
        a.check_columns(tr.table, tr.update_of, tr.loc, f"trigger '{tr.name}' update_of")
        if tr.update_of and "update" not in tr.events:
            a.error("E360", f"trigger '{tr.name}' has update_of but no update event", tr.loc)
        if "truncate" in tr.events and tr.for_each == "row":
            a.error(
                "E361",
                f"trigger '{tr.name}': truncate triggers fire for each statement only",
                tr.loc,
            )
        if tr.timing == "instead_of" and (tr.table in a.tables or tr.table in a.partitions):
            a.error("E362", f"trigger '{tr.name}': instead_of triggers are for views", tr.loc)
        if (tr.old_table or tr.new_table) and tr.timing != "after":
            a.error(
                "E363",
                f"trigger '{tr.name}': transition tables (referencing) need timing: after",
                tr.loc,
            )
        _check_trigger_function(a, tr)


TRIGGER = Kind(
    "trigger",
    field="triggers",
    table_member=True,
    nodes=on_table("trigger", "trigger"),
    located=Located("trigger", ("trigger",), per_table=True),
    edges=trigger_edges,
    check=check_triggers,
    names=claim_table_member_name,
    template="trigger",
    reader=lambda conn, out, reading: read_triggers(conn, out, relations_read(reading)),
    comparison=Comparison(("trigger",)),
)
