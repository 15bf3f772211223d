"""diff on the project's warm server clones shadow A while the YAML compiles (diff_ahead.py):
the clones are taken by the plan and its verification, and none is left behind when the
diff ends early (a YAML error) or plans from another template."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from diff.support import Project, new_migration_sql, ok
from schemac import clones as clones_module
from schemac.diff_ahead import shadow_ahead
from schemac.project import load_settings
from schemac.shadow import SCRATCH_PREFIX
from schemac.warm import open_warm, stop_warm

MINUTES = (
    '      position: {type: integer, not_null: true, default: "0"}\n',
    '      position: {type: integer, not_null: true, default: "0"}\n'
    "      minutes: {type: integer}\n",
)


@pytest.fixture
def warm(project: Project) -> Iterator[Project]:
    """The project, its diffs run on its own warm server (stopped afterwards)."""
    yield project
    stop_warm(project.root)


def scratch_databases(project: Project) -> list[str]:
    with open_warm(project.root, load_settings(project.root).postgres_version) as server:
        rows = server.fetch(server.maintenance_database, "SELECT datname FROM pg_database")
    return [str(name) for (name,) in rows if str(name).startswith(SCRATCH_PREFIX)]


def test_a_warm_diff_plans_as_a_diff_on_a_named_server_and_leaves_no_clone(
    warm: Project,
) -> None:
    warm.edit(*MINUTES)
    on_named_server = new_migration_sql(ok(warm.diff("minutes", "--dry-run")))
    first = new_migration_sql(ok(warm.run("diff", "-m", "minutes", "--dry-run")))
    again = new_migration_sql(ok(warm.run("diff", "-m", "minutes", "--dry-run")))
    assert first == again == on_named_server
    assert 'add column "minutes" integer' in first
    assert scratch_databases(warm) == []
    warm.edit("      minutes: {type: integer}\n", "      minutes: {type: integr}\n")
    failed = warm.run("diff", "-m", "minutes", "--dry-run")
    assert failed.returncode != 0 and "integr" in failed.stderr
    assert scratch_databases(warm) == []


def test_clones_made_ahead_and_not_taken_are_dropped(warm: Project) -> None:
    warm.edit(*MINUTES)
    ok(warm.run("diff", "-m", "minutes", "--dry-run"))  # the warm server holds shadow A now
    with shadow_ahead(load_settings(warm.root), None):  # as a diff whose compile then fails
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with clones_module._ahead_lock:
                if sum(len(futures) for futures in clones_module._ahead.values()):
                    break
            time.sleep(0.05)
        ((_, template),) = clones_module._ahead
        assert template.startswith("schemac_tpl_a_")
        clones = [
            future.result() for futures in clones_module._ahead.values() for future in futures
        ]
        assert len(clones) == clones_module.CLONES_AHEAD
        assert sorted(scratch_databases(warm)) == sorted(clones)
    assert not clones_module._ahead
    assert scratch_databases(warm) == []
