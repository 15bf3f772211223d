"""The file cache (.schemac/cache) changes nothing but the time.

Each test compiles a real project twice or more, the later runs reading what the earlier ones
stored, and compares files or error reports with a run that has no cache at all.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schemac import compiler
from schemac.diagnostics import format_diagnostic
from schemac.emit import emit
from schemac.errors import InvalidInput
from schemac.filecache import CACHE_DIR, FileCache
from schemac.loader import LocatedDict, LocatedList, load_file

CASES = Path(__file__).parent / "cases"


def _copy_case(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(CASES / name, root, ignore=shutil.ignore_patterns(".schemac", "generated"))
    return root


def _entries(root: Path) -> set[str]:
    return {p.name for p in (root / CACHE_DIR).glob("*.entry")}


def _compile(root: Path) -> dict[str, bytes]:
    emit(compiler.compile_project(compiler.open_project(root)))
    generated = root / "generated"
    return {
        p.relative_to(generated).as_posix(): p.read_bytes()
        for p in sorted(generated.rglob("*"))
        if p.is_file()
    }


def _report(root: Path) -> list[str]:
    with pytest.raises(InvalidInput) as raised:
        compiler.compile_project(compiler.open_project(root))
    return [format_diagnostic(d, root) for d in raised.value.diagnostics]


def _positions(value: object) -> list[object]:
    """Every position of a loaded document, in document order."""
    found: list[object] = []
    if isinstance(value, LocatedDict):
        found += [value.location, value.key_locations, value.value_locations]
        for item in value.values():
            found += _positions(item)
    elif isinstance(value, LocatedList):
        found += [value.location, value.item_locations]
        for item in value:
            found += _positions(item)
    return found


def test_a_cached_compile_writes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy_case("kitchen_sink", tmp_path)
    monkeypatch.setenv("SCHEMAC_NO_CACHE", "1")
    uncached = _compile(root)
    assert not (root / CACHE_DIR).exists()
    monkeypatch.delenv("SCHEMAC_NO_CACHE")
    shutil.rmtree(root / "generated")
    stored = _compile(root)  # parses, checks and stores
    yaml_files = list((root / "schema").rglob("*.yaml"))
    assert len(_entries(root)) == len(yaml_files)
    shutil.rmtree(root / "generated")
    from_cache = _compile(root)  # every file from the cache
    assert stored == uncached
    assert from_cache == uncached
    assert (root / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"


def test_errors_found_after_loading_point_at_the_same_lines_from_the_cache(tmp_path: Path) -> None:
    """err_semantics passes the JSON Schema check, so its file is cached although the model is
    wrong; the second report, built from cached positions, must equal the first."""
    root = _copy_case("err_semantics", tmp_path)
    first = _report(root)
    assert len(_entries(root)) == 1
    second = _report(root)
    assert second == first
    assert len(first) > 5


def test_cached_positions_equal_parsed_ones_with_anchors_and_merges(tmp_path: Path) -> None:
    source = tmp_path / "anchors.yaml"
    source.write_text(
        "base: &base {type: text, not_null: true}\n"
        "columns:\n"
        "  a: *base\n"
        "  b: {<<: *base, comment: merged}\n"
        "  c: [1, 2.5, true, null, '2024-01-01', {x: y}]\n"
        "  1: numeric key\n"
        "  yes: boolean key\n",
        encoding="utf-8",
    )
    cache = FileCache(tmp_path)
    raw = source.read_bytes()
    key = FileCache.key(raw)
    parsed = load_file(source).documents[0]
    cache.store([(key, parsed)], {key})
    remembered = cache.load(source, key)
    assert remembered is not None
    assert remembered.data == parsed.data
    assert _positions(remembered.data) == _positions(parsed.data)
    # An alias is one object in both: what was shared stays shared.
    columns = remembered.data["columns"]
    assert columns["a"] is remembered.data["base"]


def test_an_edited_file_is_parsed_again_and_its_old_entry_dropped(tmp_path: Path) -> None:
    root = _copy_case("kitchen_sink", tmp_path)
    _compile(root)
    before = _entries(root)
    core = root / "schema" / "01_core.yaml"
    core.write_text(core.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    _compile(root)
    after = _entries(root)
    assert len(after) == len(before)
    assert len(after - before) == 1  # the edited file's new entry replaced its old one
    # An edit the model sees: the comment of the schema changes in the output.
    text = core.read_text(encoding="utf-8")
    assert "\ncomment: " in text
    core.write_text(text.replace("\ncomment: ", "\ncomment: EDITED ", 1), encoding="utf-8")
    shutil.rmtree(root / "generated")
    assert b"EDITED" in _compile(root)["desired-state.sql"]


def test_a_damaged_entry_is_a_miss_not_a_failure(tmp_path: Path) -> None:
    root = _copy_case("kitchen_sink", tmp_path)
    expected = _compile(root)
    for entry in (root / CACHE_DIR).glob("*.entry"):
        content = bytearray(entry.read_bytes())
        content[len(content) // 2] ^= 0xFF
        entry.write_bytes(bytes(content))
    truncated = sorted((root / CACHE_DIR).glob("*.entry"))[0]
    truncated.write_bytes(truncated.read_bytes()[:10])
    shutil.rmtree(root / "generated")
    assert _compile(root) == expected


def test_an_unwritable_cache_folder_is_no_error(tmp_path: Path) -> None:
    root = _copy_case("kitchen_sink", tmp_path)
    (root / ".schemac").write_text("a file where the folder would go", encoding="utf-8")
    expected_names = set(_compile(root))
    assert "desired-state.sql" in expected_names
    assert (root / ".schemac").is_file()


def test_a_file_that_fails_the_schema_check_is_not_cached(tmp_path: Path) -> None:
    root = _copy_case("err_unknown_key", tmp_path)
    first = _report(root)
    assert first
    assert not _entries(root)
    assert _report(root) == first
