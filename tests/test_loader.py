"""The loader: positions, duplicate keys, YAML merges and aliases."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from schemac.limits import MAX_YAML_FILE_BYTES
from schemac.loader import LocatedDict, load_file


def load(tmp_path: Path, text: str) -> tuple[Any, list[str]]:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    result = load_file(path)
    data = result.documents[0].data if result.documents else None
    return data, [
        f"{d.location.line}:{d.location.column} {d.code}" for d in result.diagnostics if d.location
    ]


def test_duplicate_keys_are_reported_at_the_second_key(tmp_path: Path) -> None:
    data, problems = load(tmp_path, "a: 1\nb:\n  c: 1\n  c: 2\n")
    assert problems == ["4:3 E102"]
    assert isinstance(data, LocatedDict)
    assert data.key_locations["b"].line == 2
    assert data["b"].value_locations["c"].column == 6


def test_merges_follow_yaml_not_duplicate_key_rules(tmp_path: Path) -> None:
    text = (
        "a: &a {type: text, not_null: true}\n"
        "b: &b {type: integer, comment: from b}\n"
        "one: {<<: *a, type: uuid}\n"
        "both: {<<: [*a, *b]}\n"
    )
    data, problems = load(tmp_path, text)
    assert problems == []
    assert isinstance(data, dict)
    assert data["one"] == {"type": "uuid", "not_null": True}  # the mapping's own key wins
    assert data["both"] == {
        "type": "text",
        "not_null": True,
        "comment": "from b",
    }  # first listed wins


def test_dates_stay_strings_and_scalars_keep_their_types(tmp_path: Path) -> None:
    data, _ = load(tmp_path, "d: 2026-01-01\nn: 12\nf: 1.5\nt: true\nz: null\n")
    assert data == {"d": "2026-01-01", "n": 12, "f": 1.5, "t": True, "z": None}


def test_an_alias_of_itself_is_an_error_not_a_crash(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "a: &x [*x]\n")
    assert problems == ["1:8 E106"]  # at the alias, not at 1:1


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_fails_fast_at_the_alias_that_crosses_the_cap(tmp_path: Path) -> None:
    text = _bomb(10)  # ten anchors of ten aliases each: 10**10 nodes once expanded
    started = time.perf_counter()
    _, problems = load(tmp_path, text)
    assert time.perf_counter() - started < 1.0
    # aliases in a1..a3 add 12,330 nodes; each *a3 adds 11,111: the 8th of a4 passes 100,000
    assert problems == [f"5:{len('a4: &a4 [') + 7 * len('*a3, ') + 1} E106"]


def test_aliases_below_the_cap_load_as_copies(tmp_path: Path) -> None:
    data, problems = load(tmp_path, _bomb(3))
    assert problems == []
    assert len(data["a2"]) == 10 and data["a2"][0][0] == ["x"] * 10


def test_keys_keep_their_text_even_when_yaml_11_reads_them_as_booleans(tmp_path: Path) -> None:
    data, problems = load(tmp_path, "no: 1\nyes: 2\n'on': 3\n~: 4\n1.0: 5\n0x1F: 6\n")
    assert problems == []
    assert list(data) == ["no", "yes", "on", "~", "1.0", "0x1F"]
    assert data.key_locations["yes"].line == 2


def test_a_nul_is_reported_where_it_is(tmp_path: Path) -> None:
    assert load(tmp_path, "x: 1\ny: ab\x00c\n")[1] == ["2:6 E101"]
    assert load(tmp_path, 'x: 1\ny: [a, "b\\0"]\n')[1] == ["2:8 E107"]


def test_nesting_too_deep_is_reported_at_the_node(tmp_path: Path) -> None:
    problems = load(tmp_path, "x: " + "[" * 300 + "]" * 300 + "\n")[1]
    assert problems == ["1:203 E106"]


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_YAML_FILE_BYTES + 1))
    result = load_file(path)
    assert [d.code for d in result.diagnostics] == ["E110"]


def test_a_non_utf8_byte_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"x: 1\ny: ab\xffc\n")
    result = load_file(path)
    assert [
        (d.code, d.location.line, d.location.column) for d in result.diagnostics if d.location
    ] == [("E100", 2, 6)]
