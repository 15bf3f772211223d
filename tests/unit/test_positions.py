"""An offset into a YAML scalar's value, back to the file's line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemac.loader import load_file
from schemac.positions import value_offset_location

SOURCE = """\
plain: a plain ) value
single: 'it''s ) x'
double: "a\\"b\\u00e9 ) c"
flow: {check: "x > 1 +) y"}
literal: |
  SELECT 1
    FROM ) x
indented: |2
    two ) extra
folded: >
  first line
  second ) line
"""


@pytest.mark.parametrize(
    ("key", "line", "column"),
    [
        ("plain", 1, 16),
        ("single", 2, 16),
        ("double", 3, 21),
        ("literal", 7, 10),
        ("indented", 9, 9),
        ("folded", 12, 10),
    ],
)
def test_offset_of_the_parenthesis(tmp_path: Path, key: str, line: int, column: int) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    data = load_file(path).documents[0].data
    value = data[key]
    found = value_offset_location(data.value_locations[key], value.index(")"))
    assert (found.line, found.column) == (line, column)
    assert path.read_text().splitlines()[line - 1][column - 1] == ")"


def test_inside_a_flow_mapping(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    flow = load_file(path).documents[0].data["flow"]
    found = value_offset_location(flow.value_locations["check"], flow["check"].index(")"))
    assert (found.line, found.column) == (4, 23)
