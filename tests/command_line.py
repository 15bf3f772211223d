"""The real `schemac` command line, in a new process, running this checkout's source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"


def run_schemac(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m schemac <args>` in `cwd`, as a developer runs it. SCHEMAC_DEV_URL is not
    passed on: a test that wants a server says so with --dev-url."""
    environment = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT), **(env or {})}
    environment.pop("SCHEMAC_DEV_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "schemac", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
