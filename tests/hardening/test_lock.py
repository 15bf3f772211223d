"""The project lock: one writer at a time, and a second one is told who holds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from schemac.staging import project_lock

CASE = Path(__file__).resolve().parents[1] / "cases" / "kitchen_sink"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(CASE, root, ignore=shutil.ignore_patterns("expected*", "generated"))
    return root


def schemac(project: Path, *args: str, wait: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemac", *args],
        cwd=project,
        env={**os.environ, "SCHEMAC_LOCK_WAIT": wait},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_writer_fails_naming_the_holder(project: Path) -> None:
    with project_lock(project, "schemac diff -m holder"):
        result = schemac(project, "compile", wait="0.3")
    assert result.returncode == 3
    assert f"pid {os.getpid()}, command `schemac diff -m holder`" in result.stderr
    assert "another schemac is writing this project" in result.stderr
    assert not (project / "generated").exists()
    # Reading commands take no lock.
    assert schemac(project, "validate", wait="0").returncode == 0


def test_a_second_writer_waits_for_the_first(project: Path) -> None:
    released = threading.Event()

    def hold() -> None:
        with project_lock(project, "schemac compile"):
            time.sleep(4.0)  # longer than the second one takes to start and ask
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    result = schemac(project, "compile", wait="30")
    holder.join()
    assert released.is_set()
    assert result.returncode == 0, result.stderr
    assert "waiting for pid" in result.stderr
    assert (project / "generated" / "integrity.json").is_file()


def test_the_lock_is_released_when_its_holder_is_killed(project: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from schemac.staging import project_lock\n"
        "with project_lock(Path(sys.argv[1]), 'holder'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(project)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    assert schemac(project, "compile", wait="0.2").returncode == 3
    holder.kill()
    holder.wait()
    assert schemac(project, "compile", "--offline", wait="0.2").returncode == 0


def test_diff_takes_the_same_lock(project: Path) -> None:
    assert schemac(project, "compile", "--offline", wait="0").returncode == 0
    with project_lock(project, "schemac compile"):
        result = schemac(project, "diff", "-m", "second writer", wait="0.2")
        dry = schemac(project, "diff", "-m", "only a plan", "--dry-run", wait="0.2")
    assert result.returncode == 3
    assert f"pid {os.getpid()}, command `schemac compile`" in result.stderr
    assert "another schemac is writing" not in dry.stderr  # a dry run writes nothing: no lock
