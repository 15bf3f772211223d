"""The mutation matrix: every property of every object kind the format accepts, changed once.

Each case (tests/diff/matrix.py, generated from the JSON Schema) is either migrated exactly
(`schemac diff` writes a migration, the pg_dump oracle finds the migrations' database equal
to the desired state's, and `schemac check` passes right after) or refused with an error that
names the object and the reason. "No difference" while pg_dump differs is a failure: the
oracle runs after a "no difference" too.

Speed: the cases of a few kinds are copies of their objects in one project (each copy named
after its property), so a group of kinds costs one compile, one diff, one check and one oracle. Cases that
are expected to be refused, or known to fail, run alone so that they cannot hide the others.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from command_line import run_schemac
from diff.matrix import (
    KINDS,
    PART_OF,
    SCHEMA_KIND,
    Case,
    NoGenericMutation,
    cases,
    environment,
    format_schema,
    properties,
)
from diff.matrix_kinds import EXTENSION_FOR
from diff.oracle import assert_migrations_build_desired_state
from schemac.hazards import Severity
from schemac.shadow import PostgresServer
from schemac.squawk import RULES

# (kind, property) -> what the refusal must say besides the object's name. PostgreSQL itself
# cannot make these changes in place, and each is refused with the reason.
REFUSED: dict[str, str] = {
    # ALTER DOMAIN cannot change the base type or the collation.
    "domain.type": "the base type or collation of a domain cannot be altered",
    "domain.collation": "the base type or collation of a domain cannot be altered",
    # No statement turns a table into a partitioned one.
    "table.partition_by": "PostgreSQL cannot turn an existing table into a partitioned one",
    "partition.partition_by": "PostgreSQL cannot turn an existing table into a partitioned one",
}

# The same for a change taken back (REVERSED below).
REVERSED_REFUSED: dict[str, str] = {
    "domain.type": REFUSED["domain.type"],
    "domain.collation": REFUSED["domain.collation"],
    # No statement turns a partitioned table back into a plain one either.
    "table.partition_by": "PostgreSQL cannot turn a partitioned table into a plain one",
    "partition.partition_by": "PostgreSQL cannot turn a partitioned table into a plain one",
    # An extension's scripts only go forward: hstore ships no script from 1.8 back to 1.7.
    "extension.version": "extension hstore: version 1.8 is installed and the YAML declares 1.7, "
    "which is a downgrade: PostgreSQL has no downgrade path",
    # A fresh sequence's current value is its START: PostgreSQL refuses a MINVALUE above it.
    "identity.minvalue": "cannot be less than MINVALUE",
}

# (kind, property) -> why the case fails today (strict: a fix makes the test fail until the
# entry is removed).
KNOWN_FAILURES: dict[str, str] = {}

ALL_CASES, UNMUTATED = cases()
# The same changes undone: the property as changed becomes the baseline, and the change takes
# it back (a value removed, a flag cleared, an option reset). A declared rename and a body moved
# into a file have no meaningful way back.
REVERSED = [
    dataclasses.replace(c, before=c.after, after=c.before)
    for c in ALL_CASES
    if c.prop not in ("renamed_from", "body_file")
]
_RUNTIMES: dict[str, float] = {}


def _alone(case: Case) -> bool:
    return case.id in REFUSED or case.id in KNOWN_FAILURES


def _documents(selected: list[Case], changed: bool) -> tuple[dict[str, Any], dict[str, str]]:
    project = environment()
    files: dict[str, str] = {}
    for case in selected:
        obj = copy.deepcopy(case.after if changed else case.before)
        name = case.new_name if changed else case.name
        if changed and case.prop == "renamed_from":
            obj["renamed_from"] = case.name
        case.kind.place(project, name, obj)
        if changed:
            files.update(case.files)
    return project, files


def _write(root: Path, project: dict[str, Any], files: dict[str, str]) -> None:
    schema_dir = root / "schema"
    if schema_dir.exists():
        shutil.rmtree(schema_dir)
    schema_dir.mkdir(parents=True)
    for name, document in project.items():
        (schema_dir / name).write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    for name, text in files.items():
        (schema_dir / name).write_text(text + "\n", "utf-8")


def _ok(result: subprocess.CompletedProcess[str], code: int = 0) -> None:
    assert result.returncode == code, (
        f"exit {result.returncode}, expected {code}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}"
    )


# The matrix judges exactness, not online safety (tests/safety does): squawk's errors are
# warnings here, so `check` does not fail on a blocking index build a mutation asks for.
_SAFETY_NOT_JUDGED = "lint:\n  severity:\n" + "".join(
    f"    {rule}: warning\n" for rule, (_, severity) in RULES.items() if severity is Severity.ERROR
)


def run_cases(
    selected: list[Case], root: Path, dev_url: str, server: PostgresServer
) -> subprocess.CompletedProcess[str]:
    """Baseline with every copy as declared, then every copy changed, then diff: returns diff's
    result; on success the migration has been proven by check and by the oracle."""
    root.mkdir(parents=True)
    (root / "schemac.yaml").write_text("version_width: 3\n" + _SAFETY_NOT_JUDGED, "utf-8")
    _write(root, *_documents(selected, changed=False))
    _ok(run_schemac("compile", cwd=root))
    _write(root, *_documents(selected, changed=True))
    result = run_schemac(
        "diff",
        "-m",
        "mutation",
        "--dev-url",
        dev_url,
        "--allow-destructive",
        "--allow-rewrite",
        cwd=root,
    )
    if result.returncode == 0:
        _ok(run_schemac("check", "--dev-url", dev_url, cwd=root))
        # A column PostgreSQL could only add at the end (a generated column re-created before
        # 17) is named in a warning; the rest of the dump must still agree.
        warned = "PostgreSQL adds columns at the end of a table" in result.stderr
        assert_migrations_build_desired_state(server, root, ignore_column_order=warned)
    return result


@pytest.fixture(scope="module", autouse=True)
def report_runtime() -> Iterator[None]:
    started = time.monotonic()
    yield
    total = time.monotonic() - started
    slowest = sorted(_RUNTIMES.items(), key=lambda item: -item[1])[:5]
    print(  # shown with -s or -rA: the matrix's share of the time budget
        f"\nmutation matrix: {len(ALL_CASES)} cases in {total:.1f}s; slowest: "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest)
    )


def test_every_property_has_a_mutation() -> None:
    """A property added to the JSON Schema gets a case, or this names it."""
    assert ALL_CASES
    assert UNMUTATED == [], "add these to matrix.OVERRIDES:\n" + "\n".join(UNMUTATED)
    for case in ALL_CASES:
        assert case.before != case.after or case.files, f"{case.id}: the change changes nothing"


def test_cases_cover_every_kind() -> None:
    """Every definition of the JSON Schema that has properties is a kind (or part of one)."""
    assert {c.kind.name for c in ALL_CASES} == {k.name for k in [*KINDS, SCHEMA_KIND]}
    root = format_schema()
    with_properties = {
        name for name in root["$defs"] if properties(name, root) and name not in PART_OF
    }
    assert with_properties == {k.name for k in KINDS}


# Kinds changed together in one project: each group costs one compile, diff, check and oracle
# (the fixed cost of a run dominates a small project, so four groups cost little more than one
# kind). Every copy is named after its case, so a difference still names the case.
GROUPS = {
    "objects": [
        "role",
        "extension",
        "enum",
        "domain",
        "composite_type",
        "range_type",
        "sequence",
        "publication",
        "document",
        "default_privileges",
    ],
    "tables": [
        "table",
        "column",
        "column_reference",
        "primary_key",
        "partition",
        "identity",
        "generated_column",
    ],
    "table_parts": [
        "index",
        "index_element",
        "unique_constraint",
        "foreign_key",
        "exclusion",
        "trigger",
        "policy",
        "table_check",
    ],
    "views_and_routines": [
        "view",
        "materialized_view",
        "function",
        "argument",
        "procedure",
        "aggregate",
    ],
}


def test_reversed_refusals_are_cases() -> None:
    assert set(REVERSED_REFUSED) <= {c.id for c in REVERSED}


def test_groups_hold_every_kind_once() -> None:
    grouped = [kind for kinds in GROUPS.values() for kind in kinds]
    assert sorted(grouped) == sorted(k.name for k in [*KINDS, SCHEMA_KIND])


@pytest.mark.parametrize("group", list(GROUPS))
def test_group(group: str, tmp_path: Path, dev_url: str, pg_server: PostgresServer) -> None:
    """Every property of every kind of the group changed at once, one copy each: migrated
    exactly."""
    selected = [c for c in ALL_CASES if c.kind.name in GROUPS[group] and not _alone(c)]
    started = time.monotonic()
    result = run_cases(selected, tmp_path / "project", dev_url, pg_server)
    _RUNTIMES[group] = time.monotonic() - started
    _ok(result)


@pytest.mark.parametrize("group", list(GROUPS))
def test_group_reversed(
    group: str, tmp_path: Path, dev_url: str, pg_server: PostgresServer
) -> None:
    """Every change of the group taken back at once: migrated exactly as well."""
    selected = [
        c for c in REVERSED if c.kind.name in GROUPS[group] and c.id not in REVERSED_REFUSED
    ]
    started = time.monotonic()
    result = run_cases(selected, tmp_path / "project", dev_url, pg_server)
    _RUNTIMES[f"{group} reversed"] = time.monotonic() - started
    _ok(result)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[c.id])]
            if c.id in KNOWN_FAILURES
            else [],
        )
        for c in ALL_CASES
        if _alone(c)
    ],
)
def test_alone(case: Case, tmp_path: Path, dev_url: str, pg_server: PostgresServer) -> None:
    """A case that is refused (or known to fail) on its own: refused naming object and reason."""
    started = time.monotonic()
    result = run_cases([case], tmp_path / "project", dev_url, pg_server)
    _RUNTIMES[case.id] = time.monotonic() - started
    if case.id in REFUSED:
        _ok(result, 2)
        assert case.name in result.stderr, result.stderr
        assert REFUSED[case.id] in result.stderr, result.stderr
    else:
        _ok(result)


def test_no_generic_mutation_is_an_error() -> None:
    """The generic table refuses what it cannot change, so an override is written, not guessed."""
    from diff.matrix import generic_mutation

    with pytest.raises(NoGenericMutation):
        generic_mutation(KINDS[0], {"type": "string"}, "x")


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id) for c in REVERSED if c.id in REVERSED_REFUSED]
)
def test_alone_reversed(
    case: Case, tmp_path: Path, dev_url: str, pg_server: PostgresServer
) -> None:
    """A change taken back that PostgreSQL cannot make: refused naming object and reason."""
    result = run_cases([case], tmp_path / "project", dev_url, pg_server)
    _ok(result, 2)
    # An extension's copy is the extension its name stands for (EXTENSION_FOR).
    assert EXTENSION_FOR.get(case.name, case.name) in result.stderr, result.stderr
    assert REVERSED_REFUSED[case.id] in result.stderr, result.stderr
