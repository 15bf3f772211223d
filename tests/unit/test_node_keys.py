"""Node keys keep a name's parts apart: objects whose labels read alike stay two objects."""

from __future__ import annotations

import shutil
from pathlib import Path

from schemac import compiler, objects
from schemac.node_keys import key_label, node_key

CASE = Path(__file__).parent.parent / "cases" / "colliding_names"


def test_parts_that_read_alike_give_two_keys_and_one_label() -> None:
    first, second = node_key("relation", "a.b", "c"), node_key("relation", "a", "b.c")
    assert first != second
    assert key_label(first) == key_label(second) == "a.b.c"
    assert node_key("trigger", "a", "b", "c.touch") != node_key("trigger", "a", "b.c", "touch")


def test_each_object_is_compiled_and_located_at_its_own_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(CASE, root)
    compiled = compiler.compile_project(compiler.open_project(root))
    tables = [o for o in compiled.objects if o.node.kind == "table"]
    triggers = [o for o in compiled.objects if o.node.kind == "trigger"]
    policies = [o for o in compiled.objects if o.node.kind == "policy"]
    assert (len(tables), len(triggers), len(policies)) == (5, 2, 2)
    refs = [
        objects.ObjectRef("trigger", "a", "x", "a.b.c", "b.c"),
        objects.ObjectRef("trigger", "a", "c.x", "a.b", "b"),
        objects.ObjectRef("policy", "a", "x.y", "a.t", "t"),
        objects.ObjectRef("policy", "a", "y", "a.t.x", "t.x"),
        objects.ObjectRef("table", "a.b", "c"),
    ]
    found = [objects.locate(compiled, ref) for ref in refs]
    assert all(loc is not None for loc in found)
    where = [(loc.path.name, loc.line) for loc in found if loc is not None]
    assert where == [
        ("01_a.yaml", 10),
        ("01_a.yaml", 15),
        ("01_a.yaml", 21),
        ("01_a.yaml", 27),
        ("02_a_b.yaml", 3),
    ]
