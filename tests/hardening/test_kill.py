"""kill -9 at random moments of a compile: generated/ is always the old one or the new one.

Two kinds of kill: at a random moment of the whole run (most land before anything is written,
some after), and targeted ones, a random few milliseconds after the staging folder appears,
which is when an older schemac left V001 without integrity.json. After each kill the folder
is compared byte for byte with the two states a run can legitimately leave, and the next
compile must then succeed and leave the new state.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("SCHEMAC_KILL_SEED", "20261201"))
RANDOM_KILLS = int(os.environ.get("SCHEMAC_RANDOM_KILLS", "8"))
TARGETED_KILLS = int(os.environ.get("SCHEMAC_TARGETED_KILLS", "8"))

Snapshot = dict[str, bytes]


def snapshot(folder: Path) -> Snapshot | None:
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def start(project: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCHEMAC_JOBS": os.environ.get("SCHEMAC_JOBS", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "schemac", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    process = start(project, *args)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def restore(generated: Path, state: Snapshot | None) -> None:
    shutil.rmtree(generated, ignore_errors=True)
    if state is None:
        return
    for relative, content in state.items():
        target = generated / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kill") / "platform"
    root.mkdir()
    shutil.copytree(REPOSITORY / "schema", root / "schema")
    shutil.copy(REPOSITORY / "schemac.yaml", root / "schemac.yaml")
    return root


def _states(project: Path, *args: str) -> tuple[Snapshot | None, Snapshot, float]:
    """The state before, the state after `schemac <args>`, and how long the run took."""
    generated = project / "generated"
    old = snapshot(generated)
    started = time.perf_counter()
    result = run(project, *args)
    took = time.perf_counter() - started
    assert result.returncode == 0, result.stderr.decode()
    new = snapshot(generated)
    assert new is not None and new != old
    restore(generated, old)
    return old, new, took


def _kill_and_judge(
    project: Path, args: tuple[str, ...], old: Snapshot | None, new: Snapshot, wait: object
) -> str:
    generated = project / "generated"
    process = start(project, *args)
    assert callable(wait)
    wait(process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    state = snapshot(generated)
    verdict = "old" if state == old else "new" if state == new else "torn"
    assert verdict != "torn", (
        f"generated/ is neither the old nor the new state: {sorted(state or {})}"
    )
    # Whatever the kill left, the next run finishes the job.
    result = run(project, *args)
    assert result.returncode == 0, result.stderr.decode()
    assert snapshot(generated) == new
    restore(generated, old)
    return verdict


def _staging_appears(project: Path, rng: random.Random) -> object:
    staging = project / ".schemac" / "staging"

    def wait(process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.03))

    return wait


@pytest.mark.parametrize(
    "args",
    # --offline: the shadow proof of a baseline is not what this test is about (test_prove.py).
    [("compile", "--offline"), ("compile", "--offline", "--rebaseline")],
    ids=["first-baseline", "rebaseline"],
)
def test_kill_at_random_moments_leaves_old_or_new(platform: Path, args: tuple[str, ...]) -> None:
    rng = random.Random(f"{SEED}-{args}")
    generated = platform / "generated"
    if "--rebaseline" in args:
        restore(generated, None)
        assert run(platform, "compile", "--offline").returncode == 0
        # A comment edit: the rebaseline rewrites a migration and integrity.json.
        first = sorted((platform / "schema").rglob("*.yaml"))[0]
        original = first.read_text(encoding="utf-8")
        marker = "comment: Lets exclusion"
        assert marker in original, "the platform's first file changed: pick another comment"
        first.write_text(original.replace(marker, "comment: Edited. Lets exclusion"), "utf-8")
    else:
        restore(generated, None)
    old, new, took = _states(platform, *args)
    verdicts: list[str] = []
    for _ in range(RANDOM_KILLS):
        delay = rng.uniform(0, took * 1.2)
        verdicts.append(
            _kill_and_judge(platform, args, old, new, lambda _p, d=delay: time.sleep(d))
        )
    for _ in range(TARGETED_KILLS):
        verdicts.append(_kill_and_judge(platform, args, old, new, _staging_appears(platform, rng)))
    # The kills must have landed on both sides of the commit, or the test proved nothing.
    assert "old" in verdicts and "new" in verdicts, verdicts
