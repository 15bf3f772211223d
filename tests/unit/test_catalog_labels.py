"""The catalog model's labels: parts that would make a label ambiguous are quoted, others not."""

from __future__ import annotations

import pytest

from schemac import model as m
from schemac.comparison import _bare
from schemac.naming import member_label


@pytest.mark.parametrize(
    ("schema", "name", "label"),
    [
        ("core", "users", "core.users"),
        ("My Schema", "Users", "My Schema.Users"),  # ordinary names stay as str() shows them
        ("a.b", "c", '"a.b".c'),
        ("a", "b.c", 'a."b.c"'),
        ("a", 'say "hi"', 'a."say ""hi"""'),
    ],
)
def test_qname_label_quotes_a_part_holding_a_dot_or_a_quote(
    schema: str, name: str, label: str
) -> None:
    assert m.QName(schema, name).label == label


def test_labels_that_str_joins_alike_differ() -> None:
    assert str(m.QName("a.b", "c")) == str(m.QName("a", "b.c"))
    assert m.QName("a.b", "c").label != m.QName("a", "b.c").label
    on_ab, on_abc = m.QName("a", "b").label, m.QName("a", "b.c").label
    assert member_label("c.x", on_ab) != member_label("x", on_abc)
    # " on " joins a member to its table: a member holding it (or ending like its start) is quoted
    assert member_label("p on a", "b.t") != member_label("p", m.QName("a on b", "t").label)
    assert member_label("x on", "on b.t") != member_label("x", "on on b.t")
    assert member_label("touch", "core.users") == "touch on core.users"
    assert member_label("Allow read access", "public.t") == "Allow read access on public.t"


def test_a_model_difference_is_matched_to_a_statement_by_parts() -> None:
    # _bare pairs a model difference with migra's or the facts' label of the same object only
    assert _bare('table "a.b".c') == _bare('table "a.b"."c"')
    assert _bare('table "a.b".c') != _bare('table a."b.c"')
    assert _bare('function "a.b".f(integer)') == _bare('function "a.b".f')
    assert _bare("table public.Users") == _bare('table public."Users"')
