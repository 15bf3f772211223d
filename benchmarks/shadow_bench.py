"""`schemac check` and `schemac diff` on the platform, cold and warm, against the floor of the run.

The floor is the same work done by hand on a running server of the same PostgreSQL that
schemac's shadow uses (the project's `postgres_version` when installed): psql replaying
generated/migrations, psql applying generated/desired-state.sql, and the migra command line
between the two databases. Each is timed as a fresh process, like every schemac command here.

    cold   `schemac shadow stop` first: no server, no template databases (what CI sees)
    warm   the project's warm server up, its templates built by the runs before

Targets (issue 12): warm check <= 1.0 s and <= 0.6x the floor, cold check <= 1.3x the floor,
warm diff of one new column <= 2 s. Peers, measured on this machine for the issue: Atlas
0.16-0.26 s, migra 0.5-0.75 s, pg-schema-diff 0.8-2.0 s to diff the platform's two databases.

    python -m benchmarks.shadow_bench [--runs 3] [--profile]

`benchmarks/run.py` can call `benchmarks.shadow_bench.main([])` as one more part.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 900
NEW_COLUMN = "bench_note"


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
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
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


def add_one_column(root: Path) -> str:
    """A nullable column on the first table of the first schema file that has one."""
    for path in sorted((root / "schema").glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        tables = document.get("tables") if isinstance(document, dict) else None
        if tables:
            name, table = next(iter(tables.items()))
            table["columns"][NEW_COLUMN] = {"type": "text", "comment": "Added by the benchmark."}
            path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
            return f"{document['schema']}.{name}.{NEW_COLUMN}"
    raise SystemExit("no table found in schema/ to add a column to")


# -- the floor ------------------------------------------------------------------------------------


def floor(root: Path, runs: int) -> tuple[dict[str, float], str]:
    """Best-of-``runs`` seconds of each raw step, on a server like schemac's shadow."""
    from benchmarks.run import migra_command, psql_file, runs_in_transaction, versioned_migrations
    from schemac.cluster import server_bin_dir
    from schemac.project import load_settings
    from schemac.shadow import PostgresServer

    target = load_settings(root).postgres_version
    bin_dir = server_bin_dir(target)
    psql = str(bin_dir / "psql") if (bin_dir / "psql").exists() else shutil.which("psql") or ""
    generated = root / "generated"
    migrations = versioned_migrations(generated)
    best: dict[str, float] = {}

    def keep(step: str, seconds: float) -> None:
        best[step] = min(best.get(step, seconds), seconds)

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
    return best, version


# -- schemac --------------------------------------------------------------------------------------


def measure(label: str, arguments: list[str], root: Path, runs: int) -> tuple[Sample, Sample]:
    """(cold, best warm) of one schemac command; cold after `schemac shadow stop`."""
    subprocess.run(schemac("shadow", "stop"), cwd=root, capture_output=True, check=False)
    cold = timed(schemac(*arguments), cwd=root)
    warm = [timed(schemac(*arguments), cwd=root) for _ in range(runs)]
    best = min(warm, key=lambda s: s.wall)
    say(f"  {label:<34} {cold.wall:>7.2f} {best.wall:>7.2f} {cold.cpu:>8.2f} {best.cpu:>8.2f}")
    return cold, best


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
    parser.add_argument("--runs", type=int, default=3, help="warm runs per command (best counts)")
    parser.add_argument("--profile", action="store_true", help="cProfile one warm check")
    options = parser.parse_args(argv)
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    with tempfile.TemporaryDirectory(prefix="schemac-shadow-bench-") as folder_name:
        root = copy_platform(Path(folder_name))
        changed = root.parent / "changed"
        shutil.copytree(root, changed)
        column = add_one_column(changed)
        say(f"== schemac check and diff on the platform ({load}) ==")
        say(f"the diff adds column {column} to the YAML")
        steps, version = floor(root, options.runs)
        floor_total = sum(steps.values())
        say(f"floor on {version}: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
        say(f"floor total: {floor_total:.2f} s")
        say(f"  {'':<34} {'cold s':>7} {'warm s':>7} {'cold cpu':>8} {'warm cpu':>8}")
        commands: dict[str, tuple[list[str], Path]] = {
            "check": (["check"], root),
            "diff (one new column)": (["diff", "-m", "bench", "--dry-run"], changed),
        }
        results = {
            label: measure(label, args, where, options.runs)
            for label, (args, where) in commands.items()
        }
        check_cold, check_warm = results["check"]
        diff_warm = results["diff (one new column)"][1]
        say("targets (issue 12):")
        rows: list[tuple[str, float, float, Callable[[float, float], str]]] = [
            ("warm check <= 1.0 s", check_warm.wall, 1.0, verdict),
            ("warm check <= 0.6x floor", check_warm.wall / floor_total, 0.6, verdict),
            ("cold check <= 1.3x floor", check_cold.wall / floor_total, 1.3, verdict),
            ("warm diff, one change <= 2 s", diff_warm.wall, 2.0, verdict),
        ]
        for name, value, limit, judge in rows:
            say(f"  {name:<32} {value:>6.2f}  {judge(value, limit)}")
        say(
            "peers (issue 12, this machine): Atlas 0.16-0.26 s, migra 0.5-0.75 s, pg-schema-diff 0.8-2.0 s"
        )
        if options.profile:
            profile_warm_check(root)
        for project in (root, changed):
            subprocess.run(schemac("shadow", "stop"), cwd=project, capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
