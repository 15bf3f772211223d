"""The loader: positions, duplicate keys, YAML merges and aliases."""

from __future__ import annotations

from pathlib import Path

from schemac.loader import LocatedDict, load_file


def load(tmp_path: Path, text: str) -> tuple[object, list[str]]:
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
    assert problems == ["1:1 E101"]
