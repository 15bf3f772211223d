"""A wheel built from the repository, installed in a clean virtualenv outside it, compiles a project.

This proves the templates and the JSON Schema ship inside the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
CASE = REPO / "tests" / "cases" / "kitchen_sink"


@pytest.mark.slow
def test_installed_wheel_compiles_a_project(tmp_path: Path) -> None:
    # The installed copy must be the one that runs, never the repository's src/.
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheels = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(REPO),
        ],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    wheel = next(wheels.glob("schemac-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        cwd=tmp_path,
        timeout=600,
    )
    project = tmp_path / "project"
    shutil.copytree(CASE, project, ignore=shutil.ignore_patterns("expected*", "generated"))
    result = subprocess.run(
        [str(env_dir / "bin" / "schemac"), "compile"],
        cwd=project,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = (CASE / "expected.sql").read_text(encoding="utf-8")
    assert (project / "generated" / "desired-state.sql").read_text(encoding="utf-8") == expected
    schema = subprocess.run(
        [str(env_dir / "bin" / "schemac"), "schema"],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert schema.returncode == 0 and '"$schema"' in schema.stdout
    installed = subprocess.run(
        [
            str(python),
            "-c",
            "import schemac, pathlib; print(pathlib.Path(schemac.__file__).parent)",
        ],
        env=clean_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not installed.startswith(str(REPO)), (
        "the test must run the installed copy, not the repository"
    )
    assert (Path(installed) / "templates" / "table.sql.j2").exists()
