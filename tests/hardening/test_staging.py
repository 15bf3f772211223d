"""The staged commit of generated/, on its own: the swap, the fallback and the recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from schemac import staging


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    generated = tmp_path / "generated"
    (generated / "migrations").mkdir(parents=True)
    (generated / "migrations" / "V001__a.sql").write_text("one\n", "utf-8")
    (generated / "desired-state.sql").write_text("old\n", "utf-8")
    (generated / "README.md").write_text("kept, though schemac never wrote it\n", "utf-8")
    return tmp_path


def test_a_commit_adds_replaces_and_removes_in_one_step(project: Path) -> None:
    generated = project / "generated"
    old_inode = (generated / "migrations" / "V001__a.sql").stat().st_ino
    staging.commit(
        project,
        generated,
        {"desired-state.sql": "new\n", "migrations/V002__b.sql": "two\n", "integrity.json": "{}\n"},
        ["README.md"],
        0o644,
    )
    assert _tree(generated) == {
        "desired-state.sql": "new\n",
        "integrity.json": "{}\n",
        "migrations/V001__a.sql": "one\n",
        "migrations/V002__b.sql": "two\n",
    }
    # The file that stayed is the same file (a hard link), not a copy.
    assert (generated / "migrations" / "V001__a.sql").stat().st_ino == old_inode
    assert not (project / ".schemac" / "staging").exists()
    assert (project / ".schemac" / ".gitignore").is_file()


def test_without_an_atomic_exchange_the_fallback_gives_the_same_result(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "_exchange", lambda a, b: False)  # a kernel without it
    staging.commit(project, project / "generated", {"desired-state.sql": "new\n"}, [], 0o644)
    assert _tree(project / "generated")["desired-state.sql"] == "new\n"
    assert not (project / ".schemac" / "staging").exists()


def test_a_fallback_killed_between_its_two_renames_is_finished_by_the_next_run(
    project: Path,
) -> None:
    generated = project / "generated"
    folder = project / ".schemac" / "staging"
    (folder / "next").mkdir(parents=True)
    (folder / "next" / "desired-state.sql").write_text("new\n", "utf-8")
    (folder / "moved-aside").touch()
    os.rename(generated, folder / "previous")
    assert staging.recover(project, generated) == "finished an interrupted write of generated/"
    assert _tree(generated) == {"desired-state.sql": "new\n"}
    assert not folder.exists()


def test_a_staging_folder_left_before_the_swap_is_thrown_away(project: Path) -> None:
    before = _tree(project / "generated")
    (project / ".schemac" / "staging" / "next").mkdir(parents=True)
    assert staging.recover(project, project / "generated") is None
    assert _tree(project / "generated") == before
    assert not (project / ".schemac" / "staging").exists()


def test_a_generated_folder_reached_through_a_link_stays_a_link(project: Path) -> None:
    real = project / "elsewhere"
    os.rename(project / "generated", real)
    (project / "generated").symlink_to(real)
    staging.commit(project, project / "generated", {"desired-state.sql": "new\n"}, [], 0o644)
    assert (project / "generated").is_symlink()
    assert (real / "desired-state.sql").read_text("utf-8") == "new\n"
    assert not (project / ".elsewhere.staging").exists()
