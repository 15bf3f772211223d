"""`schemac check` and `schemac diff` on the platform, cold and warm, against the floor of the run.

The floor is the same work done by hand on a running server of the same PostgreSQL that
schemac's shadow uses (the project's `postgres_version` when installed): psql replaying
generated/migrations, psql applying generated/desired-state.sql, and the migra command line
between the two databases. Each is timed as a fresh process, like every schemac command here,
and every figure is the median of ``--runs`` runs.

    cold   `schemac shadow stop` first: no server, no template databases (what CI sees);
           the median of 3
    warm   the project's warm server up, its templates built by the runs before

The warm diff is timed two ways: *a new change* (each run adds a column of another name, so
shadow B, the YAML's database, is built again each time, as after every edit) and *the same
change again* (B kept from the run before). At 1,000 tables (benchmarks/synthetic.py) the
same two diffs run on the synthetic project (``--tables 0`` skips it), next to their floor: a
copy with one new column, compiled, so its desired state holds the column, then psql replay,
psql desired state and raw migra between those two databases (psqldef's 4.9 s for reference).

Targets (issue 12): warm check <= 1.0 s and <= 0.6x the floor, cold check <= 1.3x the floor,
warm diff of one new column <= 2 s; at 1,000 tables a warm diff of one new column faster than
psqldef's 4.9 s. Peers, measured on this machine for the issue: diffing the platform's two
databases Atlas 0.16-0.26 s, migra 0.5-0.75 s, pg-schema-diff 0.8-2.0 s; a one-column change
at 1,000 tables migra 1.6 s, psqldef 4.9 s, Atlas 61 s, pg-schema-diff 135 s.

The children run without PYTHONDONTWRITEBYTECODE: an installed schemac has its bytecode
compiled, so a command does not compile ~90 modules from source each time.

    python -m benchmarks.shadow_bench [--runs 5] [--tables 1000] [--profile]

`benchmarks/run.py` calls `benchmarks.shadow_bench.main([])` as its last part.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 900
NEW_COLUMN = "bench_note"
CHILD_ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PEERS_PLATFORM = "Atlas 0.16-0.26 s, migra 0.5-0.75 s, pg-schema-diff 0.8-2.0 s"
PEERS_1000 = "migra 1.6 s, psqldef 4.9 s, Atlas 61 s, pg-schema-diff 135 s"


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class Sample:
    wall: float
    cpu: float  # user + system of the child: what the work costs when the machine is busy


def timed(command: list[str], cwd: Path | None = None, check: bool = True) -> Sample:
    before = os.times()
    start = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=CHILD_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    wall = time.perf_counter() - start
    after = os.times()
    if check and completed.returncode not in (0, 2 if "migra" in " ".join(command) else 0):
        raise SystemExit(
            f"{' '.join(command[:4])}... failed ({completed.returncode}):\n"
            f"{completed.stdout[-1500:]}\n{completed.stderr[-1500:]}"
        )
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return Sample(wall, cpu)


def schemac(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "schemac", *arguments]


def copy_platform(folder: Path) -> Path:
    root = folder / "platform"
    for part in ("schema", "generated"):
        shutil.copytree(REPO_ROOT / part, root / part)
    shutil.copy2(REPO_ROOT / "schemac.yaml", root / "schemac.yaml")
    return root


def add_one_column(root: Path, column: str = NEW_COLUMN) -> str:
    """A nullable column on the first table of the first schema file that has one (the
    column of an earlier call, if any, is replaced: one change from the migrations)."""
    for path in sorted((root / "schema").glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        tables = document.get("tables") if isinstance(document, dict) else None
        if tables:
            name, table = next(iter(tables.items()))
            columns = {
                key: value
                for key, value in table["columns"].items()
                if not key.startswith(NEW_COLUMN)
            }
            columns[column] = {"type": "text", "comment": "Added by the benchmark."}
            table["columns"] = columns
            path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
            return f"{document['schema']}.{name}.{column}"
    raise SystemExit("no table found in schema/ to add a column to")


# -- the floor ------------------------------------------------------------------------------------


def floor(root: Path, runs: int) -> tuple[dict[str, float], str]:
    """The median seconds of each raw step over ``runs``, on a server like schemac's shadow."""
    from benchmarks.run import migra_command, psql_file, runs_in_transaction, versioned_migrations
    from schemac.project import load_settings
    from schemac.server_binaries import server_bin_dir
    from schemac.shadow import PostgresServer

    target = load_settings(root).postgres_version
    bin_dir = server_bin_dir(target)
    psql = str(bin_dir / "psql") if (bin_dir / "psql").exists() else shutil.which("psql") or ""
    generated = root / "generated"
    migrations = versioned_migrations(generated)
    samples: dict[str, list[float]] = {}

    def keep(step: str, seconds: float) -> None:
        samples.setdefault(step, []).append(seconds)

    with PostgresServer.embedded(bin_dir) as server:
        for _ in range(runs):
            replayed, desired = server.create_database(), server.create_database()
            start = time.perf_counter()
            for migration in migrations:
                psql_file(
                    psql,
                    server.url(replayed),
                    migration,
                    single_transaction=runs_in_transaction(migration),
                )
            keep("psql replay", time.perf_counter() - start)
            start = time.perf_counter()
            psql_file(
                psql,
                server.url(desired),
                generated / "desired-state.sql",
                single_transaction=True,
            )
            keep("psql desired state", time.perf_counter() - start)
            sample = timed(migra_command(server.url(replayed), server.url(desired)))
            keep("migra", sample.wall)
            server.drop_database(replayed)
            server.drop_database(desired)
        version = server.describe().split(" on ")[0]
    return {step: statistics.median(values) for step, values in samples.items()}, version


# -- schemac --------------------------------------------------------------------------------------


def median_sample(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples)
    )


def row(label: str, cold: Sample | None, warm: Sample) -> None:
    cold_wall = f"{cold.wall:>7.2f}" if cold else f"{'':>7}"
    cold_cpu = f"{cold.cpu:>8.2f}" if cold else f"{'':>8}"
    say(f"  {label:<34} {cold_wall} {warm.wall:>7.2f} {cold_cpu} {warm.cpu:>8.2f}")


def measure_check(root: Path, runs: int, label: str = "check") -> tuple[Sample, Sample]:
    """(median cold, median warm) of `schemac check`; each cold one after `schemac shadow
    stop` (at most 3: a cold start is the slowest figure here)."""
    colds = []
    for _ in range(min(runs, 3)):
        subprocess.run(schemac("shadow", "stop"), cwd=root, capture_output=True, check=False)
        colds.append(timed(schemac("check"), cwd=root))
    cold = median_sample(colds)
    warm = median_sample([timed(schemac("check"), cwd=root) for _ in range(runs)])
    row(label, cold, warm)
    return cold, warm


def measure_diff(label: str, root: Path, runs: int) -> tuple[Sample, Sample]:
    """(median warm diff of a new change, median warm diff of the same change again)."""
    diff = schemac("diff", "-m", "bench", "--dry-run")
    add_one_column(root, f"{NEW_COLUMN}_0")
    timed(diff, cwd=root)  # the warm server started, shadow A's template built
    new: list[Sample] = []
    for run in range(1, runs + 1):
        add_one_column(root, f"{NEW_COLUMN}_{run}")
        new.append(timed(diff, cwd=root))
    again = [timed(diff, cwd=root) for _ in range(runs)]
    fresh, kept = median_sample(new), median_sample(again)
    row(f"diff {label}, a new change", None, fresh)
    row(f"diff {label}, the same again", None, kept)
    return fresh, kept


def synthetic_project(folder: Path, tables: int) -> Path:
    from benchmarks.compile_bench import compile_and_emit
    from benchmarks.synthetic import write_project

    project = write_project(folder / f"synthetic-{tables}", tables)
    compile_and_emit(project.root)
    return project.root


def one_column_floor(root: Path, runs: int) -> dict[str, float]:
    """The floor of a one-column diff of ``root``: a copy with the column added, compiled
    (its desired-state.sql then holds the column, its migrations not), psql replay of the
    migrations, psql of that desired state, and migra between the two databases."""
    from benchmarks.compile_bench import compile_and_emit

    copy = root.parent / f"{root.name}-floor"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".schemac"))
    add_one_column(copy, f"{NEW_COLUMN}_floor")
    compile_and_emit(copy)
    steps, _ = floor(copy, runs)
    shutil.rmtree(copy)
    return steps


def profile_warm_check(root: Path) -> None:
    """Where a warm `schemac check` spends its time, in this process."""
    from typer.testing import CliRunner

    from schemac.cli import app

    runner = CliRunner()
    runner.invoke(app, ["check", "--project", str(root)])  # warm it up
    profiler = cProfile.Profile()
    profiler.enable()
    runner.invoke(app, ["check", "--project", str(root)])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    say(out.getvalue())


def verdict(value: float, limit: float) -> str:
    return "ok" if value <= limit else "MISSED"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median counts)")
    parser.add_argument(
        "--tables", type=int, default=1000, help="synthetic project size for the diff (0: none)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one warm check")
    options = parser.parse_args(argv)
    say(f"== schemac check and diff on the platform ({load_average()}) ==")
    with tempfile.TemporaryDirectory(prefix="schemac-shadow-bench-") as folder_name:
        folder = Path(folder_name)
        root = copy_platform(folder)
        changed = folder / "changed"
        shutil.copytree(root, changed)
        steps, version = floor(root, options.runs)
        floor_total = sum(steps.values())
        say(f"floor on {version}: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
        say(f"floor total: {floor_total:.2f} s (medians of {options.runs})")
        say(f"  {'':<34} {'cold s':>7} {'warm s':>7} {'cold cpu':>8} {'warm cpu':>8}")
        check_cold, check_warm = measure_check(root, options.runs)
        diff_new, diff_again = measure_diff("(one column)", changed, options.runs)
        rows: list[tuple[str, float, float]] = [
            ("warm check <= 1.0 s", check_warm.wall, 1.0),
            ("warm check <= 0.6x floor", check_warm.wall / floor_total, 0.6),
            ("cold check <= 1.3x floor", check_cold.wall / floor_total, 1.3),
            ("warm diff, a new change <= 2 s", diff_new.wall, 2.0),
            ("warm diff, same again <= 2 s", diff_again.wall, 2.0),
        ]
        projects = [root, changed]
        if options.tables:
            synthetic = synthetic_project(folder, options.tables)
            projects.append(synthetic)
            check_floor = sum(floor(synthetic, min(options.runs, 3))[0].values())
            big_cold, big_warm = measure_check(
                synthetic, options.runs, f"check ({options.tables} tables)"
            )
            say(
                f"  {options.tables} tables, check: cold {big_cold.wall / check_floor:.2f}x, "
                f"warm {big_warm.wall / check_floor:.2f}x the floor ({check_floor:.2f} s)"
            )
            big_floor = one_column_floor(synthetic, min(options.runs, 3))
            say(
                f"floor at {options.tables} tables, one new column: "
                + ", ".join(f"{k} {v:.2f} s" for k, v in big_floor.items())
            )
            big_new, big_again = measure_diff(f"({options.tables} tables)", synthetic, options.runs)
            say(
                f"  {options.tables} tables, a new change: {big_new.wall / big_floor['migra']:.2f}x "
                f"raw migra on the same two databases, {big_new.wall / sum(big_floor.values()):.2f}x "
                "the floor"
            )
            rows += [
                (f"{options.tables} tables, a new change < 4.9 s", big_new.wall, 4.9),
                (f"{options.tables} tables, same again < 4.9 s", big_again.wall, 4.9),
            ]
        say("targets (issue 12):")
        for name, value, limit in rows:
            say(f"  {name:<40} {value:>6.2f}  {verdict(value, limit)}")
        say(f"peers (issue 12, this machine), the platform's two databases: {PEERS_PLATFORM}")
        say(f"peers at 1,000 tables, one new column: {PEERS_1000}")
        if options.profile:
            profile_warm_check(root)
        for project in projects:
            subprocess.run(schemac("shadow", "stop"), cwd=project, capture_output=True, check=False)
    say(f"done ({load_average()})")
    return 0


def load_average() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


if __name__ == "__main__":
    raise SystemExit(main())
