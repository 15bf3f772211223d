"""Values that used to change silently: they now reach the SQL byte for byte, or are refused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemac.cli import app
from schemac.compiler import compile_project
from schemac.generated_files import desired_state, seed_files
from schemac.project import load_settings
from schemac.render import sql_literal

BASE = Path(__file__).parent / "corpus"
COMMENT = "First paragraph.\n\nSecond paragraph, it's here.\n\n\nThird, after two blank lines."


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(BASE, root)
    return root


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "schema" / "01_app.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "earlier_sql",
    [
        "\"btrim(name) <> 'it''s'\"",
        "\"name <> E'it\\\\'s'\"",
        '"name <> $$it\'s$$"',
        "'\"it''s\" IS NULL'",
    ],
    ids=["doubled-quote", "E-string", "dollar-quote", "quoted-identifier"],
)
def test_a_comment_keeps_its_blank_lines_whatever_sql_precedes_it(
    project: Path, earlier_sql: str
) -> None:
    _edit(project, "\"btrim(name) <> ''\"", earlier_sql)
    _edit(project, "comment: Full name.", "comment: " + json.dumps(COMMENT))
    state = desired_state(compile_project(load_settings(project)))
    assert sql_literal(COMMENT) in state  # the literal, blank lines and all, byte for byte


def test_yaml_11_boolean_words_as_column_names_keep_their_text(project: Path) -> None:
    _edit(
        project, "      score: {", "      no: {type: text}\n      yes: {type: text}\n      score: {"
    )
    state = desired_state(compile_project(load_settings(project)))
    assert '"no" text' in state and '"yes" text' in state
    assert '"false"' not in state and '"true"' not in state


def test_non_finite_floats_reach_float_columns_quoted(project: Path) -> None:
    _edit(project, "weight: 1.5}", "weight: .nan}")
    _edit(project, "weight: 2.5}", "weight: -.inf}")
    seeds = "".join(f.text for f in seed_files(compile_project(load_settings(project))))
    assert "'NaN'" in seeds and "'-Infinity'" in seeds
    assert " nan" not in seeds and " -inf" not in seeds


def test_a_policy_on_a_table_without_row_level_security_is_a_warning(project: Path) -> None:
    _edit(
        project,
        "    seed:\n      key: [id]",
        "    policies:\n      everyone: {command: select, using: 'true'}\n    seed:\n      key: [id]",
    )
    cwd = Path.cwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(app, ["validate"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert (
        "schema/01_app.yaml:15:7: warning[W310]: policy 'everyone' on app.orgs has no effect"
        in (result.stderr)
    )
