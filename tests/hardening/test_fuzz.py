"""Mutated platform YAML never crashes schemac (hypothesis, seeded: the same cases every run).

Each example takes a file of the platform's schema/ and breaks it a few ways at once (a value
replaced by something hostile, characters inserted or deleted, lines duplicated, dropped,
swapped or re-indented, keys renamed). Then:

- loader + JSON Schema check, on one table of a platform file at a time (cheap, so many);
- the whole pipeline (`compile_project`) on the user_management part of the platform;
- and a few runs of the real `schemac compile`, whose generated/ must stay byte for byte the
  same whenever it exits 2.

The only acceptable outcomes are success and a located input error (exit 2): any other
exception, a MemoryError, a RecursionError, an environment failure, is a bug.
SCHEMAC_FUZZ_EXAMPLES scales the number of examples (default: about a minute in all).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from command_line import run_schemac
from schemac.compiler import compile_project
from schemac.diagnostics import Diagnostic, format_diagnostic
from schemac.errors import InvalidInput, UsageError
from schemac.loader import LocatedDict, load_file
from schemac.project import load_settings
from schemac.validate import validate_document

REPOSITORY = Path(__file__).resolve().parents[2]
SCALE = float(os.environ.get("SCHEMAC_FUZZ_EXAMPLES", "1"))

HOSTILE_VALUES = [
    "true",
    "no",
    "yes",
    "on",
    "~",
    "null",
    "0",
    "-1",
    "1.5",
    "1e400",
    ".nan",
    "-.inf",
    "0x1F",
    "''",
    '""',
    "'${x}'",
    "${x}",
    '"\\0"',
    '"\\x00"',
    '"\\u0000"',
    "[a, b]",
    "[]",
    "{}",
    "{a: 1}",
    "&a [*a]",
    "*undefined",
    "!!python/object {}",
    "!!binary aGk=",
    "!!set {a}",
    '"it\'s"',
    "E'it\\'s'",
    "$$it's$$",
    "|\n  a\n\n  b",
    "- x",
    "a: b: c",
    "'a\nb'",
    "`x`",
    '"double precision); DROP TABLE public.canary; CREATE TABLE app.zz (c int"',
    "x" * 70,
    "People",
    "2026-01-01",
    "12:30:00",
    "!!timestamp 2026-01-01",
    "? a",
    "@x",
    "%x",
    "'--'",
    "/* x */",
    "\t",
    "&anchor x",
    "<<: *a",
    "[[[[[[[[[[",
    "{a: [b, {c: [d",
]
HOSTILE_KEYS = ["no", "yes", "on", "1", "1.0", "~", "People", "x y", "type", "columns", "<<", "?"]
YAML_CHARACTERS = ":{}[],&*!|>-'\"\\\n #$%\t@`?0aZ\x00\x85\u2028\ufeff"


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` broken in one to three ways."""
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        operation = draw(
            st.sampled_from(
                ["value", "key", "insert", "delete", "duplicate", "drop", "swap", "indent"]
            )
        )
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        line = lines[at] if lines else ""
        if operation == "value" and ": " in line:
            head = line.split(": ", 1)[0]
            value = draw(st.sampled_from(HOSTILE_VALUES) | st.text(max_size=12))
            lines[at] = f"{head}: {value}"
        elif operation == "key" and ":" in line:
            indent = line[: len(line) - len(line.lstrip())]
            lines[at] = indent + draw(st.sampled_from(HOSTILE_KEYS)) + ":" + line.split(":", 1)[1]
        elif operation == "insert":
            column = draw(st.integers(0, len(line)))
            piece = draw(st.text(alphabet=YAML_CHARACTERS, min_size=1, max_size=4))
            lines[at] = line[:column] + piece + line[column:]
        elif operation == "delete" and line:
            start = draw(st.integers(0, len(line) - 1))
            lines[at] = line[:start] + line[start + draw(st.integers(1, 8)) :]
        elif operation == "duplicate":
            lines.insert(at, line)
        elif operation == "drop" and len(lines) > 1:
            del lines[at]
        elif operation == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif operation == "indent":
            lines[at] = (" " * draw(st.integers(1, 3)) + line) if draw(st.booleans()) else line[2:]
        text = "\n".join(lines)
    return text


def _fragments() -> list[str]:
    """One document per table of the platform: the file's header lines and that table."""
    fragments: list[str] = []
    for path in sorted((REPOSITORY / "schema").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = load_file(path).documents[0].data
        lines = text.split("\n")
        tables = data.get("tables") if isinstance(data, LocatedDict) else None
        if not isinstance(tables, LocatedDict):
            fragments.append(text)
            continue
        starts = [tables.key_locations[name].line - 1 for name in tables]
        header = lines[: data.key_locations["tables"].line]
        for start, end in zip(starts, [*starts[1:], None], strict=True):
            body = lines[start:end]
            while body and not body[-1].startswith("    ") and body[-1].strip():
                body.pop()  # the next top-level key
            fragments.append("\n".join(header + body) + "\n")
    return fragments


FRAGMENTS = _fragments()


def _formatted(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:  # formatting must not fail either
        assert diagnostic.location is not None, diagnostic
        format_diagnostic(diagnostic)


@settings(
    max_examples=int(1500 * SCALE),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_loader_and_validation_never_crash(data: st.DataObject) -> None:
    fragment = data.draw(st.sampled_from(FRAGMENTS))
    text = data.draw(mutated(fragment))
    path = Path(tempfile.gettempdir()) / f"schemac-fuzz-{os.getpid()}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    loaded = load_file(path)
    _formatted(loaded.diagnostics)
    for document in loaded.documents:
        _formatted(validate_document(document))


@pytest.fixture(scope="module")
def user_management(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "platform"
    (root / "schema").mkdir(parents=True)
    shutil.copy(REPOSITORY / "schemac.yaml", root)
    shutil.copy(REPOSITORY / "schema" / "00_platform.yaml", root / "schema")
    shutil.copy(REPOSITORY / "schema" / "01_user_management.yaml", root / "schema")
    shutil.copytree(REPOSITORY / "schema" / "user_management", root / "schema" / "user_management")
    compile_project(load_settings(root))  # valid as copied
    return root


def _compile_outcome(root: Path) -> int:
    try:
        compile_project(load_settings(root))
    except InvalidInput as exc:
        _formatted(exc.diagnostics)
        return 2
    except UsageError:
        return 2
    return 0


@pytest.mark.parametrize("target", ["01_user_management.yaml", "00_platform.yaml"])
def test_the_pipeline_never_crashes(user_management: Path, target: str) -> None:
    path = user_management / "schema" / target
    original = path.read_text(encoding="utf-8")
    outcomes: list[int] = []

    @settings(
        max_examples=int((200 if target.startswith("01") else 100) * SCALE),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=mutated(original))
    def run(text: str) -> None:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        outcomes.append(_compile_outcome(user_management))

    try:
        run()
    finally:
        path.write_text(original, encoding="utf-8")
    assert 2 in outcomes  # the mutations did break things (or the test proved nothing)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_cli_never_crashes_and_writes_nothing_on_exit_2(user_management: Path) -> None:
    root = user_management.parent / "cli"
    shutil.copytree(user_management, root)
    compiled = run_schemac("compile", cwd=root)
    assert compiled.returncode == 0, compiled.stderr
    path = root / "schema" / "01_user_management.yaml"
    original = path.read_text(encoding="utf-8")
    seen: dict[int, int] = {}

    @settings(max_examples=int(8 * SCALE), derandomize=True, database=None, deadline=None)
    @given(text=mutated(original))
    def run(text: str) -> None:
        before = _snapshot(root / "generated")
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        result = run_schemac("compile", cwd=root)
        assert "Traceback" not in result.stderr
        assert result.returncode in (0, 2), result.stderr
        seen[result.returncode] = seen.get(result.returncode, 0) + 1
        if result.returncode == 2:
            assert "nothing was written" in result.stderr or result.stderr.startswith("error:")
            assert _snapshot(root / "generated") == before
        path.write_text(original, encoding="utf-8")
        assert run_schemac("compile", cwd=root).returncode == 0

    run()
    assert seen.get(2)
