"""Compiling on two cores changes nothing but the time: same files, same errors.

The projects here are large enough to cross the thresholds at which compile forks a second
process (compiler.PARALLEL_VALIDATE_BYTES and PARALLEL_RENDER_NODES), and each is compiled
once with SCHEMAC_JOBS=1 (one process) and once without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.synthetic import write_project  # noqa: E402

from schemac import compiler  # noqa: E402
from schemac.diagnostics import format_diagnostic  # noqa: E402
from schemac.emit import emit  # noqa: E402
from schemac.errors import InvalidInput  # noqa: E402
from schemac.parallel import Background, can_fork, wait_for_children  # noqa: E402
from schemac.render import builtin_templates_dir  # noqa: E402

TABLES = 300  # about 1,600 objects and 370 KiB of YAML: above both thresholds

needs_fork = pytest.mark.skipif(not can_fork(), reason="this machine cannot fork a second process")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _compile(root: Path, monkeypatch: pytest.MonkeyPatch, *, jobs: str | None) -> dict[str, bytes]:
    if jobs is None:
        monkeypatch.delenv("SCHEMAC_JOBS", raising=False)
    else:
        monkeypatch.setenv("SCHEMAC_JOBS", jobs)
    emit(compiler.compile_project(compiler.open_project(root)))
    return _tree(root / "generated")


def _errors(root: Path, monkeypatch: pytest.MonkeyPatch, *, jobs: str | None) -> list[str]:
    if jobs is None:
        monkeypatch.delenv("SCHEMAC_JOBS", raising=False)
    else:
        monkeypatch.setenv("SCHEMAC_JOBS", jobs)
    with pytest.raises(InvalidInput) as raised:
        compiler.compile_project(compiler.open_project(root))
    return [format_diagnostic(d, root) for d in raised.value.diagnostics]


def test_the_project_is_large_enough_to_fork(tmp_path: Path) -> None:
    write_project(tmp_path, TABLES)
    text = sum(len(p.read_text(encoding="utf-8")) for p in (tmp_path / "schema").rglob("*.yaml"))
    assert text >= compiler.PARALLEL_VALIDATE_BYTES
    _, nodes, diagnostics = compiler.validate_project(compiler.open_project(tmp_path))
    assert not diagnostics
    assert len(nodes) >= compiler.PARALLEL_RENDER_NODES


@needs_fork
def test_two_processes_write_the_same_bytes_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_project(one, TABLES)
    write_project(two, TABLES)
    serial = _compile(one, monkeypatch, jobs="1")
    parallel = _compile(two, monkeypatch, jobs=None)
    assert serial.keys() == parallel.keys()
    assert len(serial) > 10
    for name, content in serial.items():
        assert parallel[name] == content, f"{name} differs when compiled on two cores"


def _reports_of_a_broken_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: int, original: str, broken: str
) -> tuple[Path, list[str], list[str]]:
    """Write the project, replace `original` by `broken` in its file number `which`, and
    return that file with the error reports of a one-process and a two-process compile (no
    cache, so the second one parses and checks every file again, in two processes)."""
    write_project(tmp_path, TABLES)
    target = sorted((tmp_path / "schema").glob("*.yaml"))[which]
    text = target.read_text(encoding="utf-8")
    assert original in text
    target.write_text(text.replace(original, broken, 1), encoding="utf-8")
    monkeypatch.setenv("SCHEMAC_NO_CACHE", "1")
    return (
        target,
        _errors(tmp_path, monkeypatch, jobs="1"),
        _errors(tmp_path, monkeypatch, jobs=None),
    )


@needs_fork
def test_schema_errors_found_beside_the_build_are_reported_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON Schema check runs in the child while the parent builds: a wrong key must give
    the same report as a one-process compile, with no error from building invalid input."""
    # `columns` becomes a list: the schema check rejects it, and the build would crash on it.
    _, serial, parallel = _reports_of_a_broken_project(
        tmp_path, monkeypatch, 0, "    columns:\n", "    columns: [oops]\n    ignored_columns:\n"
    )
    assert serial == parallel
    assert serial and all("error[E1" in line.splitlines()[0] for line in serial)


@needs_fork
def test_model_errors_are_the_same_on_two_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, serial, parallel = _reports_of_a_broken_project(
        tmp_path, monkeypatch, -1, "{type: boolean", "{type: no_such_type"
    )
    assert serial == parallel
    assert any("no_such_type" in line for line in serial)


@needs_fork
@pytest.mark.parametrize(
    ("original", "broken", "code"),
    [
        ("{type: boolean", "{type: boolean, type: text", "E102"),  # duplicate key
        ("    columns:\n", "    columns:\n   - [unclosed\n", "E101"),  # YAML syntax
    ],
    ids=["duplicate-key", "syntax-error"],
)
def test_load_errors_in_files_parsed_on_the_second_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, original: str, broken: str, code: str
) -> None:
    """The last files are parsed in the child (compiler.CHILD_LOAD_SHARE): their load errors
    must come back located exactly as a one-process compile reports them."""
    last, serial, parallel = _reports_of_a_broken_project(
        tmp_path, monkeypatch, -1, original, broken
    )
    assert serial == parallel
    assert any(f"error[{code}]" in line and last.name in line for line in serial)


@needs_fork
def test_background_work_runs_in_another_process() -> None:
    assert Background(os.getpid).result() != os.getpid()


def test_schemac_jobs_1_keeps_the_work_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMAC_JOBS", "1")
    assert Background(os.getpid).result() == os.getpid()


@needs_fork
def test_a_failing_child_is_replaced_by_the_parent_doing_the_work() -> None:
    parent = os.getpid()

    def only_in_the_parent() -> str:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return "done by the parent"

    assert Background(only_in_the_parent).result() == "done by the parent"


@needs_fork
def test_a_real_error_surfaces_in_the_parent() -> None:
    def always_fails() -> None:
        raise ValueError("broken input")

    with pytest.raises(ValueError, match="broken input"):
        Background(always_fails).result()


@needs_fork
def test_a_discarded_child_is_reaped() -> None:
    job = Background(lambda: "x" * 1_000_000)  # more than a pipe holds: the child blocks writing
    pid = job._pid
    job.discard()
    wait_for_children()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@needs_fork
def test_the_second_core_compiles_the_templates_and_writes_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the build, the child compiles all templates into .schemac/cache/templates, not
    only those of the kinds this project uses (which are all the parent would compile)."""
    write_project(tmp_path, TABLES)
    _compile(tmp_path, monkeypatch, jobs=None)
    wait_for_children()
    compiled = list((tmp_path / ".schemac" / "cache" / "templates").glob("*.cache"))
    shipped = list(builtin_templates_dir().glob("*.sql.j2"))
    assert len(shipped) > 10
    assert len(compiled) == len(shipped)
    # ... and, after sending its result, writes the file cache: an entry per YAML file.
    entries = list((tmp_path / ".schemac" / "cache").glob("*.entry"))
    assert len(entries) == len(list((tmp_path / "schema").glob("*.yaml")))
