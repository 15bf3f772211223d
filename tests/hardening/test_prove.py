"""A baseline is applied to a shadow database before it is recorded (real PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from command_line import run_schemac

BASE = Path(__file__).parent / "corpus"

pytestmark = pytest.mark.postgres


def schemac(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_schemac(*args, cwd=root)


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


def test_an_object_postgresql_refuses_is_reported_at_its_yaml_and_nothing_is_written(
    project: Path,
) -> None:
    _edit(project, "\"btrim(name) <> ''\"", '"btrim(name) <> 1"')  # text <> integer
    result = schemac(project, "compile")
    assert result.returncode == 2, result.stderr
    assert "schema/01_app.yaml:19:3: error[E601]: PostgreSQL rejected table app.people" in (
        result.stderr
    )
    assert not (project / "generated").exists()


def test_a_seed_postgresql_refuses_is_reported_at_its_yaml(project: Path) -> None:
    _edit(project, "name: Second, size: 2", "name: Second, size: 99999999999")
    result = schemac(project, "compile")
    assert result.returncode == 2, result.stderr
    assert (
        "schema/01_app.yaml:15:7: error[E602]: PostgreSQL rejected the seed rows of app.orgs"
        in (result.stderr)
    )
    assert not (project / "generated").exists()
    offline = schemac(project, "compile", "--offline")
    assert offline.returncode == 0, offline.stderr
    assert "--offline: the baseline was recorded without applying it" in offline.stderr
    assert (project / "generated" / "integrity.json").is_file()


def test_a_valid_baseline_is_proven_and_recorded(project: Path) -> None:
    result = schemac(project, "compile")
    assert result.returncode == 0, result.stderr
    assert "applying the baseline to a shadow database" in result.stderr
    assert (project / "generated" / "integrity.json").is_file()
    again = schemac(project, "compile")  # nothing to record: no shadow database
    assert again.returncode == 0 and "shadow" not in again.stderr
