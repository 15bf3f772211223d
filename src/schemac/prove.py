"""Nothing recorded that no database accepts: before `compile` records the first baseline (or
a rebaseline), the YAML's schema and its seed rows are applied to a scratch shadow database,
as `diff` proves its migrations. A PostgreSQL error is reported at the YAML of the object (or
seed) that produced it; `compile --offline` skips the proof and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from schemac.compiler import Compiled
from schemac.diagnostics import Diagnostic
from schemac.errors import InvalidInput

Progress = Callable[[str], None]


def prove_baseline(
    compiled: Compiled, dev_url: str | None = None, progress: Progress | None = None
) -> None:
    """Apply the desired state, then every seed, to a fresh shadow database; InvalidInput
    (E601 an object, E602 a seed) at the YAML when PostgreSQL refuses one."""
    from schemac.drift import apply_desired_state, connect, postgres_errors
    from schemac.external_shadow import prepare_shadow
    from schemac.shadow import open_shadow, scratch_database

    if progress is not None:
        progress("applying the baseline to a shadow database before recording it")
    with (
        postgres_errors("schemac compile"),
        open_shadow(dev_url or compiled.settings.dev_url) as server,
        scratch_database(server) as url,
    ):
        prepare_shadow(url, compiled.project)  # external objects first (schemac.external_shadow)
        apply_desired_state(url, compiled)
        with connect(url) as conn:
            for (_, _, sql), (_, seed) in zip(compiled.seeds, compiled.project.seeds, strict=True):
                try:
                    with conn.transaction():
                        conn.execute(sql)
                except psycopg.Error as error:
                    first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
                    raise InvalidInput(
                        [
                            Diagnostic(
                                "E602",
                                f"PostgreSQL rejected the seed rows of {seed.table}: {first}",
                                seed.loc,
                                hint=error.diag.message_hint,
                            )
                        ]
                    ) from None
