"""diff's verification: the planned files, run on a fresh clone of shadow A as Flyway will run
them, must leave it equal to shadow B, or nothing is written.

Equal ``pg_dump --schema-only`` outputs (PostgreSQL's own account of a schema, the test
suite's oracle; :func:`schemac.verdict.same_schema_dump`) prove it at a fraction of the cost of
a second migra run. Only when the dumps differ does the full comparison run (migra, the
catalog facts, the catalog models, routine and view definitions): it names every difference,
and accepts what only warns (a column order ALTER TABLE cannot reproduce).
"""

from __future__ import annotations

from typing import Any

import psycopg

from schemac.clones import clone
from schemac.errors import SchemacError
from schemac.migration_files import DiffFailed, PlannedFile
from schemac.migrations import run_script
from schemac.shadows import Shadows, Steps, connect


def verify(shadows: Shadows, files: list[PlannedFile], steps: Steps) -> None:
    """Run the files on a fresh clone of shadow A as Flyway will; it must then equal shadow B."""
    from schemac.verdict import same_schema_dump

    with clone(shadows.migrations_server, shadows.migrations) as url:
        with connect(url) as conn:
            try:
                for planned in files:
                    run_script(conn, planned.name, planned.text, planned.transactional)
            except SchemacError as error:
                raise DiffFailed(
                    f"the new migration does not run on the migrated schema: {error}"
                ) from None
        with steps.step("comparing schema dumps", "dumps"):
            kept = shadows.kept_file(shadows.desired, "dump")
            major = shadows.desired_server.version // 10000
            if same_schema_dump(url, shadows.desired_url, major, kept):
                return
        listing = _differences(shadows, url, steps)
    if listing:
        when = "after the new migration" if files else "with no statement to write"
        raise DiffFailed(
            f"{when} the schema still differs from the YAML, so nothing was "
            "written (a gap in migra or schemac; please report it):\n" + "\n".join(listing)
        )


def _differences(shadows: Shadows, url: str, steps: Steps) -> list[str]:
    """Every difference between the verified clone and shadow B, one line each."""
    from schemac.comparison import compare_databases
    from schemac.planner import read_routines, routine_differences

    desired_url = shadows.desired_url
    with connect(url) as conn, connect(desired_url) as desired:
        routines = routine_differences(read_routines(conn), read_routines(desired))
        views = sorted(
            f"{kind} {schema}.{name}" for kind, schema, name in _view_differences(conn, desired)
        )
    comparison = compare_databases(url, desired_url, steps=steps)
    listing = [f"  {d.object}: {_one_line(d.detail)}" for d in comparison.differences]
    listing += [f"  routine {name}: its definition differs" for name in routines]
    listing += [f"  {name}: its definition, options or data differ" for name in views]
    return listing


def _view_differences(
    current: psycopg.Connection[Any], desired: psycopg.Connection[Any]
) -> list[tuple[str, str, str]]:
    from schemac.view_plan import read_views

    before, after = read_views(current), read_views(desired)
    return [
        ("materialized view" if (after.get(n) or before[n]).kind == "m" else "view", *n)
        for n in sorted(before.keys() | after.keys())
        if before.get(n) != after.get(n)
    ]


def _one_line(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 160 else text[:157] + "..."
