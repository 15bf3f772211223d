"""Part 1 of `make bench`: the compile of synthetic projects against a floor, the bare YAML parse
of the same files, measured in the same run.

Each measurement is one function that prepares its case (outside the timing) and times one
compile + emit in this process, as `schemac compile` runs it (the cyclic garbage collector
off), returning (wall seconds, CPU seconds). The measurements run interleaved, one of each per
round (parse, cold, no cache, warm, edited, parse, cold, ...), so that other work on the
machine slows all of them alike; the tables show medians.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.synthetic import SyntheticProject, write_project

DEFAULT_SIZES = (100, 1000, 5000)
QUICK_SIZES = (100, 1000)
TARGET_TABLES = 1000
TARGET_SECONDS = 1.0
# Per-table cost at the largest size over the smallest; above this the growth is not linear.
LINEAR_TOLERANCE = 1.5
# The stages of compile_project + emit, found by function name in a profile.
PROFILE_STAGES = (
    ("load (YAML into located dicts)", "compiler.py", "load_project_documents"),
    ("validate (JSON Schema)", "validate.py", "validate_document"),
    ("file cache (write)", "filecache.py", "store"),
    ("build (model)", "build.py", "build_project"),
    ("analyse (graph, checks)", "analyse.py", "analyse"),
    ("render (Jinja)", "render.py", "render_forms"),
    ("emit (files, sums)", "emit.py", "emit"),
)
_NO_CACHE_VARIABLE = "SCHEMAC_NO_CACHE"


def say(text: str = "") -> None:
    print(text, flush=True)


def rounds_for(tables: int, quick: bool) -> int:
    if quick:
        return 1
    return 7 if tables <= 100 else 5 if tables <= 1000 else 3


def compile_and_emit(root: Path) -> int:
    """What `schemac compile` does on a project without generated/; returns the object count.
    Like the command, it runs with the cyclic garbage collector off (the caller turns it on)."""
    from schemac.compiler import compile_project, open_project
    from schemac.emit import emit

    gc.disable()
    compiled = compile_project(open_project(root))
    emit(compiled)
    return len(compiled.objects)


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    gc.disable()
    cpu_start, start = time.process_time(), time.perf_counter()
    try:
        action()
        return time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        gc.enable()


def _fresh_generated(project: SyntheticProject) -> None:
    shutil.rmtree(project.root / "generated", ignore_errors=True)


# One function per measurement ------------------------------------------------------------------


def time_parse(project: SyntheticProject) -> tuple[float, float]:
    """The floor: PyYAML's CSafeLoader on each file (reading it included), nothing else."""

    def parse() -> None:
        for path in project.yaml_files:
            yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)

    return _timed(parse)


def time_cold(project: SyntheticProject) -> tuple[float, float]:
    """A new checkout: no generated/, no .schemac/cache (which this compile writes)."""
    _fresh_generated(project)
    shutil.rmtree(project.root / ".schemac", ignore_errors=True)
    return _timed(lambda: compile_and_emit(project.root))


def time_no_cache(project: SyntheticProject) -> tuple[float, float]:
    """The same with SCHEMAC_NO_CACHE=1: every file parsed and checked, nothing remembered."""
    _fresh_generated(project)
    os.environ[_NO_CACHE_VARIABLE] = "1"
    try:
        return _timed(lambda: compile_and_emit(project.root))
    finally:
        del os.environ[_NO_CACHE_VARIABLE]


def time_warm(project: SyntheticProject) -> tuple[float, float]:
    """Nothing changed since the last compile: every file comes from the cache."""
    _fresh_generated(project)
    compile_and_emit(project.root)  # untimed: makes sure every file is in the cache
    _fresh_generated(project)
    return _timed(lambda: compile_and_emit(project.root))


def time_edited(project: SyntheticProject) -> tuple[float, float]:
    """One of the ten files gained a comment line: it alone is parsed and checked."""
    _fresh_generated(project)
    compile_and_emit(project.root)
    _fresh_generated(project)
    edited = project.schema_files[len(project.schema_files) // 2]
    with edited.open("a", encoding="utf-8") as stream:
        stream.write("# an edit: new bytes, the same model\n")
    return _timed(lambda: compile_and_emit(project.root))


MEASUREMENTS: tuple[tuple[str, Callable[[SyntheticProject], tuple[float, float]]], ...] = (
    ("parse", time_parse),
    ("cold", time_cold),
    ("no cache", time_no_cache),
    ("warm", time_warm),
    ("1 edited", time_edited),
)


@dataclass(frozen=True)
class CompileResult:
    tables: int
    objects: int
    yaml_bytes: int
    rounds: int
    wall: dict[str, float]  # measurement -> median seconds
    cpu: dict[str, float]  # measurement -> median CPU seconds of this process

    def ratio(self, name: str) -> float:
        return self.wall[name] / self.wall["parse"]

    @property
    def ms_per_table(self) -> float:
        return self.wall["cold"] * 1000 / self.tables

    @property
    def cpu_ms_per_table(self) -> float:
        return self.cpu["cold"] * 1000 / self.tables


def measure_compile(tables: int, quick: bool) -> CompileResult:
    rounds = rounds_for(tables, quick)
    with tempfile.TemporaryDirectory(prefix=f"schemac-bench-{tables}-") as folder:
        project = write_project(Path(folder), tables)
        objects = compile_and_emit(project.root)  # warms imports and caches
        gc.enable()
        walls: dict[str, list[float]] = {name: [] for name, _ in MEASUREMENTS}
        cpus: dict[str, list[float]] = {name: [] for name, _ in MEASUREMENTS}
        for _ in range(rounds):
            for name, measure in MEASUREMENTS:
                wall, cpu = measure(project)
                walls[name].append(wall)
                cpus[name].append(cpu)
        size = sum(p.stat().st_size for p in project.yaml_files)
    median = statistics.median
    return CompileResult(
        tables,
        objects,
        size,
        rounds,
        {name: median(values) for name, values in walls.items()},
        {name: median(values) for name, values in cpus.items()},
    )


def print_compile_table(results: list[CompileResult]) -> None:
    compiles = [name for name, _ in MEASUREMENTS if name != "parse"]
    say(
        f"{'tables':>7} {'objects':>8} {'YAML KiB':>9} {'rounds':>6} {'parse s':>8}"
        + "".join(f" {name + ' s':>11} {'/parse':>7}" for name in compiles)
        + f" {'ms/table':>9}"
    )
    for r in results:
        say(
            f"{r.tables:>7} {r.objects:>8} {r.yaml_bytes / 1024:>9.0f} {r.rounds:>6} "
            f"{r.wall['parse']:>8.3f}"
            + "".join(f" {r.wall[name]:>11.3f} {r.ratio(name):>6.2f}x" for name in compiles)
            + f" {r.ms_per_table:>9.2f}"
        )
    say(
        "(medians; /parse: the ratio to the bare YAML parse of the same files in the same run. "
        "cold: no .schemac/cache, which it writes; no cache: SCHEMAC_NO_CACHE=1; warm: nothing "
        "changed; 1 edited: one file of ten changed; ms/table: cold)"
    )
    say()
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large.ms_per_table / small.ms_per_table
        cpu_growth = large.cpu_ms_per_table / small.cpu_ms_per_table
        verdict = "linear" if growth <= LINEAR_TOLERANCE else "NOT linear"
        say(
            f"linearity: {large.ms_per_table:.2f} ms/table at {large.tables} tables vs "
            f"{small.ms_per_table:.2f} at {small.tables}: {growth:.2f}x (CPU time: "
            f"{cpu_growth:.2f}x); {verdict} (linear means <= {LINEAR_TOLERANCE}x)"
        )
    at_target = next((r for r in results if r.tables == TARGET_TABLES), None)
    if at_target is not None:
        cold = at_target.wall["cold"]
        verdict = "met" if cold < TARGET_SECONDS else "MISSED"
        say(
            f"target: {TARGET_TABLES} tables compile cold in {cold:.3f} s, one process "
            f"(goal < {TARGET_SECONDS:.0f} s): {verdict}; {at_target.wall['no cache']:.3f} s "
            f"without the cache, {at_target.wall['warm']:.3f} s unchanged, "
            f"{at_target.wall['1 edited']:.3f} s after one edit"
        )
        say(
            f"(the bare parse of the same YAML took {at_target.wall['parse']:.3f} s in this run: "
            "on a busy or throttled machine every number here grows by about the same factor)"
        )


def compile_part(sizes: list[int], quick: bool) -> None:
    say("\n== compile + emit against a bare YAML parse (synthetic projects) ==")
    results = []
    for tables in sizes:
        results.append(measure_compile(tables, quick))
        say(f"  measured {tables} tables")
    say()
    print_compile_table(results)


def profile_compile(tables: int, top: int = 25) -> None:
    """cProfile one compile + emit without the cache; the stage shares, then the functions that
    cost the most."""
    os.environ[_NO_CACHE_VARIABLE] = "1"
    try:
        with tempfile.TemporaryDirectory(prefix=f"schemac-profile-{tables}-") as folder:
            project = write_project(Path(folder), tables)
            compile_and_emit(project.root)
            _fresh_generated(project)
            profiler = cProfile.Profile()
            profiler.enable()
            compile_and_emit(project.root)
            profiler.disable()
            gc.enable()
    finally:
        del os.environ[_NO_CACHE_VARIABLE]
    _print_profile(profiler, tables, top)


def _print_profile(profiler: cProfile.Profile, tables: int, top: int) -> None:
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(entry[3] for entry in entries.values())
    say(
        f"profile of one compile + emit of {tables} tables (cProfile; its overhead inflates the "
        f"total to {total:.2f} s, so read the shares, not the seconds):"
    )
    for label, file_suffix, function in PROFILE_STAGES:
        cumulative = sum(
            entry[3]
            for (file, _, name), entry in entries.items()
            if name == function and file.endswith(file_suffix)
        )
        share = f"{cumulative / total:6.1%}" if cumulative else "     -"
        say(f"  {label:<32} {share}")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        say(f"\ntop {top} by {key}:")
        for line in lines[start:]:
            if line.strip():
                say("  " + line)
    say()
