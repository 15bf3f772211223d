"""What the registry's derived lists need from every kind: a kind that forgets a declaration
fails here, not in a stage that would skip its objects."""

from __future__ import annotations

import pytest

from schemac import kinds, objects
from schemac.kinds.registry import Kind
from schemac.node_keys import node_key


@pytest.mark.parametrize(
    "kind", [k for k in kinds.KINDS if k.nodes is not None], ids=lambda k: k.name
)
def test_every_node_kind_says_where_check_finds_it(kind: Kind) -> None:
    assert kind.located is not None, f"{kind.name}: declare located=Located(prefix, words)"
    for catalog_kind in kind.comparison.catalog_kinds:
        assert catalog_kind in kind.located.words, (kind.name, catalog_kind)


@pytest.mark.parametrize(
    ("word", "prefixes"),
    [
        ("table", ("relation",)),
        ("materialized view", ("relation",)),
        ("type", ("type",)),
        ("procedure", ("function",)),
        ("table constraint", ("fk",)),
        ("composite type", ("type",)),
    ],
)
def test_kind_words_map_to_node_key_prefixes(word: str, prefixes: tuple[str, ...]) -> None:
    assert objects._PREFIXES[word] == prefixes


def test_located_keys_of_a_table_member_and_of_a_column() -> None:
    trigger = objects.ObjectRef("trigger", "s", "touch", "s.t", "t")
    assert objects._keys(trigger) == [
        node_key("trigger", "s", "t", "touch"),
        node_key("relation", "s", "t"),
    ]
    column = objects.ObjectRef("table column", "s", "c", "s.t", "t")
    assert objects._keys(column) == [node_key("relation", "s", "t")]


@pytest.mark.parametrize(
    "kind",
    [k for k in kinds.KINDS if k.import_yaml is not None and not k.project_wide],
    ids=lambda k: k.name,
)
def test_objects_imported_one_by_one_have_a_section_per_catalog_kind(kind: Kind) -> None:
    assert len(kind.sections) >= len(kind.comparison.catalog_kinds)
