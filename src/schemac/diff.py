"""`schemac diff`: the next versioned migration, found by diffing shadow databases.

    shadow A  <- generated/migrations replayed            (what Flyway builds)
    shadow B  <- the YAML's desired state                 (what the YAML says)
    work      <- a clone of A: renames (renamed_from:) and added enum values first,
                 then migra(work -> B) and roles, rewritten by the planners where migra
                 loses a change or PostgreSQL would refuse its statement (planner.py,
                 table_plan.py, view_plan.py), then the supplements for what migra
                 does not diff (comments, privileges, view options, domains, ...)
    verify    <- a fresh clone of A runs the files exactly as Flyway will; it must then
                 equal B, or nothing is written.

Statements are applied to the work database in migra's order where that works; one that
fails waits for the others and is tried again (migra orders some dependencies wrongly, e.g.
views on views), and the order that worked is the order written.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemac import kinds
from schemac.comparison import inspect_ahead
from schemac.compiler import Compiled, compile_project
from schemac.destructive import DestructiveChange, column_types, destructive_changes, is_widening
from schemac.diff_ahead import DESIRED_READS, ReadAhead, exists, kept_statements_file, shadow_ahead
from schemac.drift import (
    MigrationScript,
    Progress,
    Shadows,
    Steps,
    build_shadows,
    clone,
    connect,
    describe_statement,
    integrity_problems,
    migra_statements,
    postgres_errors,
    read_migrations,
    role_statements,
    shadow_server,
)
from schemac.emit import emit
from schemac.errors import UsageError
from schemac.generated_files import desired_state
from schemac.hazards import Hazard
from schemac.kinds.migrating import kind_statements
from schemac.migration_files import (
    DiffFailed,
    PlannedFile,
    declared_concurrent,
    plan_files,
    with_allowance,
    write_migration,
)
from schemac.online import Before, Stage, Step, stage_statements
from schemac.plan import ColumnTypes, Operation, acknowledged, operations, read_before
from schemac.planner import (
    extension_refusals,
    extension_statements,
    read_extensions,
    read_routine_results,
    read_routines,
    routine_drops,
    routine_statements,
)
from schemac.project import Settings
from schemac.records import INTEGRITY_FILE, read_integrity, sha256
from schemac.renames import apply_renames
from schemac.sql.classify import classify
from schemac.supplements import (
    compare_facts,
    enum_additions,
    read_enums,
    read_facts,
    supplement_statements,
)
from schemac.table_plan import (
    column_order_warnings,
    constraints_without_their_index,
    drops_only_derived_values,
    generated_statements,
    identity_statements,
    impossible_changes,
    index_statements,
    partition_statements,
    read_cloned_triggers,
    read_column_order,
    read_constraint_definitions,
    read_generated,
    read_identities,
    read_indexes,
    read_partition_bounds,
    read_table_kinds,
    repair_partitioned,
    virtual_statements,
    without_cloned_triggers,
)
from schemac.target import for_target
from schemac.verdict import dump_ahead
from schemac.verification import verify  # the files run on a clone of A must build B
from schemac.view_plan import plan_views, read_view_dependencies, read_views

__all__ = [
    "DestructiveChange",
    "DiffFailed",
    "DiffOutcome",
    "PlannedFile",
    "diff_project",
    "is_widening",
    "plan_migration",
    "slugify",
    "verify",
    "write_migration",
]

_MAX_SLUG = 60


@dataclass
class DiffOutcome:
    """What `schemac diff` found, planned and wrote."""

    files: list[PlannedFile] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)  # the typed plan, file by file
    # Data losses not acknowledged in schemac.yaml: refused without --allow-destructive.
    destructive: list[DestructiveChange] = field(default_factory=list)
    # Table rewrites not acknowledged in schemac.yaml: refused without --allow-rewrite.
    rewrites: list[Hazard] = field(default_factory=list)
    refused: bool = False  # losses or rewrites neither acknowledged nor allowed: nothing written
    written: list[str] = field(default_factory=list)  # paths relative to generated/
    notes: list[str] = field(default_factory=list)
    # What the migration does as asked but not as the YAML reads (column order).
    warnings: list[str] = field(default_factory=list)
    # No difference, but integrity.json named an older desired state (a YAML edit that builds
    # the same schema): only the recorded sum moves.
    state_sum_updated: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def no_difference(self) -> bool:
        return not self.files


def slugify(description: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")
    if not slug:
        raise UsageError("the migration description (-m) needs at least one letter or digit")
    return slug[:_MAX_SLUG].rstrip("_")


# -- the whole command ----------------------------------------------------------------------------


def diff_project(
    settings: Settings,
    *,
    description: str,
    dry_run: bool = False,
    allow_destructive: bool = False,
    allow_rewrite: bool = False,
    dev_url: str | None = None,
    progress: Progress | None = None,
) -> DiffOutcome:
    """Write (or with dry_run only plan) the migration from generated/ to the YAML."""
    slug = slugify(description)
    # The server clones shadow A while the YAML compiles (diff_ahead.py).
    with shadow_ahead(settings, dev_url):
        compiled = compile_project(settings)
        generated = settings.generated_dir
        problems = integrity_problems(generated)
        if problems:
            listing = "; ".join(f"generated/{p.file} {p.message}" for p in problems)
            raise UsageError(f"generated/migrations does not match integrity.json: {listing}")
        migrations = read_migrations(generated)
        if not migrations:
            raise UsageError(
                "generated/ holds no migrations yet: run `schemac compile` to write the baseline"
            )
        integrity = read_integrity(generated)
        if integrity is not None and integrity.desired_state_sha256 == sha256(
            desired_state(compiled)
        ):
            # integrity.json names the desired state the (untouched) migrations build, as the
            # baseline or the diff that proved it recorded: this YAML is that state. Nothing to
            # diff, so no shadow database either.
            return DiffOutcome()
        steps = Steps(progress)
        with contextlib.ExitStack() as stack:
            stack.enter_context(postgres_errors("schemac diff"))
            servers = stack.enter_context(
                shadow_server(dev_url or settings.dev_url, steps, settings)
            )
            shadows = build_shadows(servers, compiled, migrations, steps)
            # Shadow B is read for migra and the verification while the server copies shadow A.
            desired_url = shadows.desired_url
            if not exists(kept_statements_file(shadows)):  # else B's inspection is not needed
                inspect_ahead(desired_url, shadows.kept_file(shadows.desired, "inspection"))
            dump_ahead(
                shadows.desired_server, shadows.desired, shadows.kept_file(shadows.desired, "dump")
            )
            outcome = plan_migration(
                compiled, shadows, migrations, description=description, slug=slug, steps=steps
            )
            if outcome.no_difference:
                # Nothing planned: the migrations must already build the YAML, attribute by
                # attribute (catalog models), or the change would be lost in silence.
                with steps.step("comparing the catalogs", "verify"):
                    verify(shadows, [], steps)
                outcome.timings = steps.timings
                _record_state_only(compiled, outcome, dry_run)
                return outcome
            if (outcome.destructive and not allow_destructive) or (
                outcome.rewrites and not allow_rewrite
            ):
                outcome.refused = True
                outcome.timings = steps.timings
                return outcome
            allowed = [*(["deletes-data"] if outcome.destructive else [])]
            allowed += ["table-rewrite"] if outcome.rewrites else []
            outcome.files = [with_allowance(f, allowed) for f in outcome.files]
            with steps.step("replaying the new migration and diffing again", "verify"):
                verify(shadows, outcome.files, steps)
        outcome.timings = steps.timings
        if not dry_run:
            outcome.written = write_migration(compiled, outcome.files)
        return outcome


def _record_state_only(compiled: Compiled, outcome: DiffOutcome, dry_run: bool) -> None:
    integrity = read_integrity(compiled.settings.generated_dir)
    state_sum = sha256(desired_state(compiled))
    if integrity is None or integrity.desired_state_sha256 == state_sum:
        return
    outcome.state_sum_updated = True
    if dry_run:
        return
    outcome.written = [*emit(compiled, record_state=True).written]  # one staged commit
    if INTEGRITY_FILE not in outcome.written:
        outcome.written.append(INTEGRITY_FILE)


# -- planning -------------------------------------------------------------------------------------


def plan_migration(
    compiled: Compiled,
    shadows: Shadows,
    migrations: list[MigrationScript],
    *,
    description: str,
    slug: str,
    steps: Steps,
) -> DiffOutcome:
    """The statements from shadow A to shadow B, tried on a clone of A, split into Flyway files."""
    outcome = DiffOutcome()
    server = shadows.migrations_server
    desired_url = shadows.desired_url
    # Shadow B, a template, read in a thread while the server copies A and migra compares.
    b = ReadAhead(desired_url, DESIRED_READS)
    with (
        clone(server, shadows.migrations) as work_url,
        connect(work_url) as work,
        connect(desired_url) as desired,
    ):
        renames = apply_renames(work, desired, compiled)
        # Kinds migra does not diff (range types, aggregates, publications): theirs first.
        renames += kind_statements(work, desired, kinds.KINDS)
        enum_values = enum_additions(read_enums(work), b.of(read_enums))
        for statement in enum_values:
            work.execute(statement)
        impossible = impossible_changes(read_table_kinds(work), b.of(read_table_kinds))
        impossible += extension_refusals(work, read_extensions(work), b.of(read_extensions))
        if impossible:
            raise DiffFailed(
                "these changes cannot be migrated:\n" + "\n".join(f"  {i}" for i in impossible)
            )
        types_before = column_types(work)
        before = read_before(work, types_before)
        roles, notes = role_statements(compiled, shadows.roles)
        outcome.notes += notes
        # The work database is still a plain copy of shadow A when nothing ran on it yet: then
        # both sides are templates as migra reads them, and their inspections are kept.
        untouched = not renames and not enum_values
        kept = (
            shadows.kept_file(shadows.migrations, "inspection") if untouched else None,
            shadows.kept_file(shadows.desired, "inspection"),
        )
        statements_file = kept_statements_file(shadows) if untouched else None
        with steps.step("diffing with migra", "migra"):
            raw = migra_statements(
                work_url, desired_url, kept=kept, kept_statements=statements_file
            )
            from_migra = repair_partitioned(desired, raw, work)
        generated = b.of(read_generated)
        # The statements must run on the target version, not only on the shadow's.
        target = min(server.version, compiled.settings.postgres_version * 10000)
        from_migra = generated_statements(from_migra, generated, target)
        from_migra = virtual_statements(from_migra, read_generated(work), generated)
        from_migra = without_cloned_triggers(
            from_migra, read_cloned_triggers(work), b.of(read_cloned_triggers)
        )
        from_migra = constraints_without_their_index(from_migra, b.of(read_constraint_definitions))
        from_migra = [
            *routine_drops(read_routine_results(work), b.of(read_routine_results)),
            *extension_statements(from_migra, read_extensions(work), b.of(read_extensions)),
        ]
        views = plan_views(
            from_migra, read_views(work), b.of(read_views), read_view_dependencies(work)
        )
        desired_facts = b.of(read_facts)
        domain_facts = compare_facts(
            read_facts(work), desired_facts, lambda key: key.category != "domain"
        )
        domains = supplement_statements(domain_facts)
        creates = [s for s in domains.statements if classify(s).kind == "create domain"]
        others = [s for s in domains.statements if s not in creates]
        applied = _apply_in_working_order(
            work, [*roles, *creates, *views.drops, *views.statements, *others, *views.creates]
        )
        applied += _apply_in_working_order(
            work,
            [
                *routine_statements(read_routines(work), b.of(read_routines)),
                *index_statements(read_indexes(work), b.of(read_indexes)),
                *partition_statements(read_partition_bounds(work), b.of(read_partition_bounds)),
                *identity_statements(read_identities(work), b.of(read_identities)),
            ],
        )
        applied += kind_statements(work, desired, kinds.KINDS, after_migra=True)
        with steps.step("comparing comments, privileges and options", "facts"):
            supplement = supplement_statements(compare_facts(read_facts(work), desired_facts))
        unresolved = domains.unresolved + supplement.unresolved
        if unresolved:
            raise DiffFailed(
                "schemac cannot write these differences; change the YAML or write the migration "
                "by hand:\n" + "\n".join(f"  {d.describe()} ({why})" for d, why in unresolved)
            )
        applied += _apply_in_working_order(work, supplement.statements)
        statements = for_target(shadows, renames + applied, compiled.settings.postgres_version)
        outcome.warnings += column_order_warnings(read_column_order(work), b.of(read_column_order))
        types_after = b.of(column_types)
        destructive = [
            change
            for change in destructive_changes(statements, types_before, types_after)
            if not drops_only_derived_values(change.statement, generated)
        ]
        destructive += [
            DestructiveChange(s, why) for s, why in domains.destructive + supplement.destructive
        ]
    planned = _typed_plan(
        compiled, enum_values, statements, before, (types_before, types_after), destructive
    )
    outcome.destructive = [d for d in destructive if d.statement not in _losses_accepted(planned)]
    outcome.rewrites = [
        h for o in planned for h in o.hazards if h.code == "table-rewrite" and not h.acknowledged
    ]
    outcome.operations = planned
    outcome.files = plan_files(compiled, migrations, planned, description, slug)
    return outcome


def _typed_plan(
    compiled: Compiled,
    enum_values: list[str],
    statements: list[str],
    before: Before,
    types: tuple[ColumnTypes, ColumnTypes],
    destructive: list[DestructiveChange],
) -> list[Operation]:
    """The statements staged for online safety (online.py), read as operations (plan.py), with
    the project's acknowledgements applied to their hazards."""
    staged = [Step(s, Stage.ENUM_VALUES) for s in enum_values]
    staged += stage_statements(
        statements, before, compiled.settings.migrations, declared_concurrent(compiled)
    )
    planned = operations(staged, before, types, frozenset(d.statement for d in destructive))
    return acknowledged(planned, compiled.settings.lint.acknowledge, compiled.settings.root)


def _losses_accepted(planned: list[Operation]) -> set[str]:
    """Statements whose loss of data schemac.yaml acknowledges."""
    return {
        o.sql
        for o in planned
        if any(h.code == "deletes-data" and h.acknowledged for h in o.hazards)
    }


def _apply_in_working_order(conn: psycopg.Connection[Any], statements: list[str]) -> list[str]:
    """Apply in the given order where possible; a statement that fails is retried after the others."""
    pending = list(statements)
    applied: list[str] = []
    with conn.transaction():
        while pending:
            failed: list[tuple[str, str]] = []
            for statement in pending:
                try:
                    with conn.transaction():
                        conn.execute(statement)
                    applied.append(statement)
                except psycopg.Error as error:
                    failed.append((statement, (str(error).strip().splitlines() or ["?"])[0]))
            if len(failed) == len(pending):
                raise DiffFailed(
                    "these statements fail on a copy of the migrated schema:\n"
                    + "\n".join(
                        f"  {describe_statement(s)}: {message}\n    {_one_line(s)}"
                        for s, message in failed
                    )
                )
            pending = [statement for statement, _ in failed]
    return applied


def _one_line(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 160 else text[:157] + "..."
