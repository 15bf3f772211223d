"""Which folder holds shadow data in memory: the user's own, with room, or none (the disk)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from schemac import memory_folder as module
from schemac.memory_folder import ON_DISK_ENV, memory_folder


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(a runtime folder, a stand-in for /dev/shm), both empty."""
    runtime, shared = tmp_path / "run-user", tmp_path / "shm"
    runtime.mkdir(mode=0o700)
    shared.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(module, "_SHARED_MEMORY", shared)
    monkeypatch.delenv(ON_DISK_ENV, raising=False)
    return runtime, shared


def test_the_runtime_folder_comes_first_and_is_private(places: tuple[Path, Path]) -> None:
    runtime, _ = places
    folder = memory_folder(None)
    assert folder == runtime / "schemac"
    assert folder.stat().st_mode & 0o777 == 0o700


def test_without_a_runtime_folder_the_shared_memory_holds_one_folder_per_user(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, shared = places
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert memory_folder(None) == shared / f"schemac-{os.getuid()}"


def test_a_name_taken_by_a_link_is_not_used(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, shared = places
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (shared / f"schemac-{os.getuid()}").symlink_to(elsewhere)  # made first by someone else
    assert memory_folder(None) is None


def test_a_folder_others_could_write_is_made_private_again(places: tuple[Path, Path]) -> None:
    runtime, _ = places
    (runtime / "schemac").mkdir(mode=0o777)
    (runtime / "schemac").chmod(0o777)
    folder = memory_folder(None)
    assert folder is not None and folder.stat().st_mode & 0o777 == 0o700


def test_a_file_system_without_room_keeps_the_data_on_the_disk(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "MIN_FREE_BYTES", 1 << 62)
    assert memory_folder(None) is None


def test_the_user_may_keep_the_data_on_the_disk(
    places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ON_DISK_ENV, "1")
    assert memory_folder(None) is None
    monkeypatch.setenv(ON_DISK_ENV, "0")
    assert memory_folder(None) is not None
