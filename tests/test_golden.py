"""Golden cases: tests/cases/<name>/ holds a project; its expected output sits beside it.

expected.sql          the desired state the YAML compiles to
expected-seed.sql     the seed-data files, when the case has seeds
expected-errors.txt   the diagnostics, for a case that must be rejected

Run with SCHEMAC_UPDATE_GOLDENS=1 to rewrite the expected files after an intended change,
then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from schemac.compiler import compile_project
from schemac.diagnostics import format_diagnostic
from schemac.errors import InvalidInput
from schemac.generated_files import baseline_migrations, desired_state, seed_files
from schemac.project import load_settings

CASES = Path(__file__).parent / "cases"
UPDATE = os.environ.get("SCHEMAC_UPDATE_GOLDENS") == "1"


def _compare(expected_path: Path, actual: str) -> None:
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
        return
    assert expected_path.exists(), f"{expected_path} is missing: run with SCHEMAC_UPDATE_GOLDENS=1"
    assert actual == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "case", sorted(p.name for p in CASES.iterdir() if (p / "schemac.yaml").exists())
)
def test_case(case: str) -> None:
    root = CASES / case
    errors_path = root / "expected-errors.txt"
    try:
        compiled = compile_project(load_settings(root))
    except InvalidInput as exc:
        text = "\n".join(format_diagnostic(d, relative_to=root) for d in exc.diagnostics) + "\n"
        if not errors_path.exists() and not UPDATE:
            pytest.fail(f"{case} was rejected:\n{text}")
        _compare(errors_path, text)
        return
    assert not errors_path.exists(), f"{case} should have been rejected"
    _compare(root / "expected.sql", desired_state(compiled))
    seeds = "".join(f"-- file: {f.relative_path}\n{f.text}" for f in seed_files(compiled))
    if seeds or (root / "expected-seed.sql").exists():
        _compare(root / "expected-seed.sql", seeds)
    names = "".join(f"{f.relative_path}\n" for f in baseline_migrations(compiled))
    _compare(root / "expected-migrations.txt", names)


def test_every_error_class_has_a_case() -> None:
    rejected = {p.parent.name for p in CASES.glob("*/expected-errors.txt")}
    assert {
        "err_yaml_syntax",
        "err_duplicate_key",
        "err_unknown_key",
        "err_wrong_type",
        "err_unknown_references",
        "err_duplicate_names",
        "err_identifier_too_long",
        "err_cycle",
        "err_typed_fields",
        "err_sql_syntax",
    } <= rejected
