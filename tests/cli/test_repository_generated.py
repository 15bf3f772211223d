"""The committed generated/ is exactly what the committed schema/ compiles to."""

from __future__ import annotations

from pathlib import Path

from command_line import run_schemac

REPO = Path(__file__).parents[2]


def test_committed_generated_is_up_to_date() -> None:
    result = run_schemac("compile", "--check", cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
