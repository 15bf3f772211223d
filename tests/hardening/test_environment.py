"""OS and encoding trouble is a one-line `error: ...` naming the path, exit 2 (the project's
files) or 3 (the environment), never a traceback, and generated/ is left as it was."""

from __future__ import annotations

import hashlib
import marshal
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from schemac.filecache import CACHE_DIR, FORMAT, FileCache

BASE = Path(__file__).parent / "corpus"


def schemac(
    root: Path, *args: str, limit_file_size: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run(
        [sys.executable, "-m", "schemac", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(BASE, root)
    assert schemac(root, "compile", "--offline").returncode == 0
    return root


def _integrity_a_folder(root: Path) -> str:
    (root / "generated" / "integrity.json").unlink()
    (root / "generated" / "integrity.json").mkdir()
    return "generated/integrity.json is a folder"


def _integrity_entry_malformed(root: Path) -> str:
    (root / "generated" / "integrity.json").write_text(
        '{"format": 1, "migrations": [{"file": "V001__create_app_schema.sql"}, 3]}', "utf-8"
    )
    return "generated/integrity.json is damaged"


def _integrity_not_json(root: Path) -> str:
    (root / "generated" / "integrity.json").write_text("{", "utf-8")
    return "generated/integrity.json is damaged"


def _migration_not_utf8(root: Path) -> str:
    migration = next((root / "generated" / "migrations").glob("V001*.sql"))
    migration.write_bytes(migration.read_bytes() + b"\xff\n")
    return f"generated/migrations/{migration.name}:"


def _desired_state_not_utf8(root: Path) -> str:
    (root / "generated" / "desired-state.sql").write_bytes(b"-- \xfe\n")
    return "generated/desired-state.sql:1: not valid UTF-8"


def _generated_a_file(root: Path) -> str:
    shutil.rmtree(root / "generated")
    (root / "generated").write_text("not a folder\n", "utf-8")
    return "generated is a file"


@pytest.mark.parametrize(
    ("damage", "command"),
    [
        (_integrity_a_folder, ("compile",)),
        (_integrity_a_folder, ("compile", "--check")),
        (_integrity_a_folder, ("check", "--offline")),
        (_integrity_entry_malformed, ("compile",)),
        (_integrity_entry_malformed, ("check", "--offline")),
        (_integrity_not_json, ("compile", "--check")),
        (_migration_not_utf8, ("compile", "--check")),
        (_migration_not_utf8, ("check", "--offline")),
        (_desired_state_not_utf8, ("compile",)),
        (_generated_a_file, ("compile",)),
        (_generated_a_file, ("compile", "--check")),
    ],
)
def test_a_damaged_generated_folder_is_an_error_naming_the_path(
    project: Path, damage: Callable[[Path], str], command: tuple[str, ...]
) -> None:
    expected = damage(project)
    before = _snapshot(project / "generated") if (project / "generated").is_dir() else None
    result = schemac(project, *command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr + result.stdout
    after = _snapshot(project / "generated") if (project / "generated").is_dir() else None
    assert after == before


def test_a_full_disk_leaves_generated_as_it_was(project: Path) -> None:
    before = _snapshot(project / "generated")
    path = project / "schema" / "01_app.yaml"
    path.write_text(path.read_text("utf-8").replace("People.", "Persons."), "utf-8")
    result = schemac(project, "compile", "--offline", "--rebaseline", limit_file_size=1000)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "File too large; nothing was changed" in result.stderr
    assert _snapshot(project / "generated") == before
    assert not (project / ".schemac" / "staging").exists()


def test_schema_output_to_an_unwritable_path(project: Path) -> None:
    result = schemac(project, "schema", "--output", "/proc/no/such/schema.json")
    assert result.returncode == 3
    assert result.stderr.startswith("error: cannot write /proc/no/such/schema.json")


def test_a_cache_entry_of_the_wrong_shape_is_parsed_again(project: Path) -> None:
    path = project / "schema" / "01_app.yaml"
    key = FileCache.key(path.read_bytes())
    payload = marshal.dumps((FORMAT, ("m", {"schema": "app"}, (1, 1))))  # positions missing
    folder = project / CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}.entry").write_bytes(hashlib.sha256(payload).digest() + payload)
    before = _snapshot(project / "generated")
    result = schemac(project, "compile", "--check")
    assert result.returncode == 0, result.stderr
    assert _snapshot(project / "generated") == before
