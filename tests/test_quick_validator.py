"""jsonschema-rs's yes must never be wrong: every document it accepts, jsonschema accepts too.

Documents: every YAML file of the platform and of the golden cases, and thousands of
seeded random mutations of them (keys removed, renamed or added, values of other types).
A no from jsonschema-rs is only a hint (jsonschema then explains or accepts), but a
disagreement there is counted too, so a schema change that makes the fast path useless
shows up.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from schemac.loader import load_file
from schemac.validate import _inlined_schema, json_schema, surely_valid

REPO = Path(__file__).parents[1]
FILES = sorted(
    [*(REPO / "schema").glob("*.yaml"), *(REPO / "tests" / "cases").glob("*/schema/**/*.yaml")]
)
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2.5,
    "",
    "x",
    "Bad Name",
    [],
    ["a"],
    {},
    {"type": "text"},
]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _documents() -> list[Any]:
    docs = []
    for path in FILES:
        loaded = load_file(path)
        docs.extend(_plain(d.data) for d in loaded.documents)
    return docs


def _containers(node: Any, found: list[Any]) -> list[Any]:
    if isinstance(node, (dict, list)):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    target = rng.choice(_containers(doc, []))
    if isinstance(target, dict) and target:
        key = rng.choice(sorted(target))
        action = rng.randrange(4)
        if action == 0:
            del target[key]
        elif action == 1:
            target[key] = rng.choice(ODD_VALUES)
        elif action == 2:
            target[key + "_typo"] = target.pop(key)
        else:
            target["unexpected"] = rng.choice(ODD_VALUES)
    elif isinstance(target, list) and target:
        index = rng.randrange(len(target))
        if rng.random() < 0.5:
            target[index] = rng.choice(ODD_VALUES)
        else:
            target.append(copy.deepcopy(target[index]))
    return doc


@pytest.mark.parametrize("seed", range(4))
def test_quick_validator_agrees_with_jsonschema(seed: int) -> None:
    validator = jsonschema.Draft202012Validator(_inlined_schema())
    rng = random.Random(seed)
    documents = _documents()
    assert len(documents) > 20
    disagreements = []
    valid_seen = invalid_seen = 0
    for doc in documents * 3:
        for candidate in (doc, _mutate(doc, rng), _mutate(_mutate(doc, rng), rng)):
            expected = validator.is_valid(candidate)
            valid_seen += expected
            invalid_seen += not expected
            if surely_valid(candidate) != expected:
                disagreements.append(candidate)
    assert valid_seen and invalid_seen  # both sides were exercised
    assert disagreements == []


def test_jsonschema_decides_where_the_quick_validator_cannot() -> None:
    """Values jsonschema-rs does not take (bytes, sets) and Python's `$` before a final newline:
    the quick answer is no, and jsonschema, which has the last word, still judges them."""
    schema = jsonschema.Draft202012Validator(json_schema())
    # A name may hold a newline (any text PostgreSQL accepts); a function's language may not.
    function = {"language": "plpgsql\n", "returns": "void", "body": "SELECT 1"}
    trailing_newline = {"schema": "billing", "functions": {"f": function}}
    assert not surely_valid(trailing_newline)
    assert schema.is_valid(trailing_newline)  # so validate_document accepts it, as before
    for odd in (b"bytes", {"a", "set"}):
        assert not surely_valid({"schema": "billing", "comment": odd})
