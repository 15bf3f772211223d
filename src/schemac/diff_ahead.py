"""What `schemac diff` starts before it needs it, so that the server's work overlaps its own.

At 1,000 tables each clone of shadow A copies ~80 MB of files on the server: made after the
YAML has compiled (the first moment shadow A's name is known), the planner waited for them.
:func:`shadow_ahead` opens the project's warm server and starts those clones while the YAML
still compiles, from the template the migrations make when the project declares no external
objects (the name build_shadows then finds in most projects). If the compiled project names
another template (external stubs), the clones are not taken and are dropped at the end.

Shadow B never changes while diff plans: :class:`ReadAhead` reads what the planners need of
it on a connection of its own, in a thread, while the server still copies shadow A and migra
compares; the planner takes each result when it gets there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import psycopg

from schemac.destructive import column_types
from schemac.planner import read_extensions, read_routine_results, read_routines
from schemac.project import Settings
from schemac.supplements import read_enums, read_facts
from schemac.table_plan import (
    read_cloned_triggers,
    read_column_order,
    read_constraint_definitions,
    read_generated,
    read_identities,
    read_indexes,
    read_partition_bounds,
    read_table_kinds,
)
from schemac.view_plan import read_views

if TYPE_CHECKING:
    from schemac.shadow import PostgresServer
    from schemac.shadows import Shadows


@contextlib.contextmanager
def shadow_ahead(settings: Settings, dev_url: str | None) -> Iterator[None]:
    """The project's warm server opened, and shadow A's clones started, in a thread while the
    block runs; given back at its end. Nothing for a server named by a URL (contacted only when
    diff needs it) or with warm servers turned off."""
    from schemac.shadow import DEV_URL_ENV
    from schemac.warm import idle_timeout

    if dev_url or settings.dev_url or os.environ.get(DEV_URL_ENV) or not idle_timeout():
        yield
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="schemac-ahead")
    ahead = pool.submit(_open_and_clone, settings)
    pool.shutdown(wait=False)
    try:
        yield
    finally:
        _close(ahead)


def _open_and_clone(settings: Settings) -> PostgresServer | None:
    from schemac.clones import CLONES_AHEAD, clone_ahead
    from schemac.errors import SchemacError
    from schemac.migrations import read_migrations
    from schemac.shadow import template_name
    from schemac.shadows import migrations_template_key
    from schemac.warm import open_warm, warm_up

    try:
        migrations = read_migrations(settings.generated_dir)
    except SchemacError:  # diff reports it, after the compile, as it always did
        return None
    if not migrations:
        return None
    # Shadow B's server (slot "b") starts in a thread of its own; shadow A's clones start here.
    warm_up(settings.root, settings.postgres_version, None, slots=("b",))
    server = open_warm(settings.root, settings.postgres_version)
    try:
        template = template_name(migrations_template_key(migrations))
        if server.database_exists(template):
            clone_ahead(server, template, CLONES_AHEAD)
    except BaseException:
        server.close()
        raise
    return server


def _close(ahead: Future[PostgresServer | None]) -> None:
    """Give back the server opened ahead, dropping the clones nobody took (a failed compile,
    no difference to plan, another template)."""
    from schemac.clones import drop_clones_ahead

    server = None
    with contextlib.suppress(Exception):  # the command reports the server's failure itself
        server = ahead.result()
    if server is not None:
        try:
            drop_clones_ahead(server)
        finally:
            server.close()


T = TypeVar("T")
Read = Callable[[psycopg.Connection[Any]], Any]


class ReadAhead:
    """What ``reads`` give on the database at ``url``, read in a thread on its own connection;
    only for a database nothing changes meanwhile (a template)."""

    def __init__(self, url: str, reads: Sequence[Read]) -> None:
        from schemac.inspections import in_background

        self._results = in_background(lambda: _read_all(url, reads))

    def of(self, read: Callable[[psycopg.Connection[Any]], T]) -> T:
        """What ``read`` (one of the reads given) gave, waiting for it."""
        return cast(T, self._results.result()[read])


def _read_all(url: str, reads: Sequence[Read]) -> dict[Read, Any]:
    from schemac.shadows import connect

    with connect(url) as conn:
        return {read: read(conn) for read in reads}


def kept_statements_file(shadows: Shadows) -> Path | None:
    """Where migra's statements from shadow A to shadow B are kept (both sides templates)."""
    return shadows.kept_file(f"{shadows.migrations} to {shadows.desired}", "statements")


def exists(path: Path | None) -> bool:
    return path is not None and path.exists()


# What the planners read of shadow B (ReadAhead), named by the readers themselves.
DESIRED_READS: tuple[Read, ...] = (
    read_enums, read_table_kinds, read_extensions, read_generated, read_cloned_triggers,
    read_constraint_definitions, read_routine_results, read_views, read_facts, read_routines,
    read_indexes, read_partition_bounds, read_identities, read_column_order, column_types,
)  # fmt: skip
