"""`schemac diff`: the next versioned migration, found by diffing shadow databases.

    shadow A  <- generated/migrations replayed            (what Flyway builds)
    shadow B  <- the YAML's desired state                 (what the YAML says)
    work      <- a clone of A: renames (renamed_from:) and added enum values first,
                 then migra(work -> B) and roles, then the supplements for what migra
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

from schemac import flyway
from schemac.compiler import Compiled, compile_project
from schemac.drift import (
    NAME,
    QUALIFIED_NAME,
    MigrationScript,
    Progress,
    Shadows,
    Steps,
    build_shadows,
    clone,
    compare_databases,
    connect,
    describe_statement,
    integrity_problems,
    migra_statements,
    postgres_errors,
    read_migrations,
    role_statements,
    run_script,
    shadow_server,
    unquote,
)
from schemac.emit import (
    DO_NOT_EDIT,
    INTEGRITY_FILE,
    MIGRATIONS_DIR,
    NON_TRANSACTIONAL_CONF,
    GeneratedFile,
    desired_state,
    emit,
    read_integrity,
    sha256,
)
from schemac.errors import SchemacError, UsageError
from schemac.naming import quote_ident, quote_qualified
from schemac.project import Settings
from schemac.shadow import PostgresServer
from schemac.supplements import (
    compare_facts,
    enum_additions,
    read_enums,
    read_facts,
    supplement_statements,
)
from schemac.target import for_target

_MAX_SLUG = 60


class DiffFailed(SchemacError):
    """schemac could not write a migration that provably turns the migrations' schema into the YAML's."""

    exit_code = 2


@dataclass(frozen=True)
class PlannedFile:
    name: str  # V004__add_course_ratings.sql
    text: str
    transactional: bool

    @property
    def relative_path(self) -> str:
        return f"{MIGRATIONS_DIR}/{self.name}"


@dataclass(frozen=True)
class DestructiveChange:
    statement: str
    reason: str


@dataclass
class DiffOutcome:
    """What `schemac diff` found, planned and wrote."""

    files: list[PlannedFile] = field(default_factory=list)
    destructive: list[DestructiveChange] = field(default_factory=list)
    refused: bool = False  # destructive changes without --allow-destructive: nothing written
    written: list[str] = field(default_factory=list)  # paths relative to generated/
    notes: list[str] = field(default_factory=list)
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
    dev_url: str | None = None,
    progress: Progress | None = None,
) -> DiffOutcome:
    """Write (or with dry_run only plan) the migration from generated/ to the YAML."""
    slug = slugify(description)
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
    if integrity is not None and integrity.desired_state_sha256 == sha256(desired_state(compiled)):
        # integrity.json names the desired state the (untouched) migrations build, as the
        # baseline or the diff that proved it recorded: this YAML is that state. Nothing to
        # diff, so no shadow database either.
        return DiffOutcome()
    steps = Steps(progress)
    with contextlib.ExitStack() as stack:
        stack.enter_context(postgres_errors("schemac diff"))
        server = stack.enter_context(shadow_server(dev_url or settings.dev_url, steps, settings))
        shadows = build_shadows(server, compiled, migrations, steps)
        outcome = plan_migration(
            compiled, shadows, migrations, description=description, slug=slug, steps=steps
        )
        if outcome.no_difference:
            # Nothing planned: the migrations must already build the YAML, attribute by
            # attribute (catalog models), or the change would be lost in silence.
            with steps.step("comparing the catalogs", "verify"):
                outcome.notes += verify(shadows, [], steps)
            outcome.timings = steps.timings
            _record_state_only(compiled, outcome, dry_run)
            return outcome
        if outcome.destructive and not allow_destructive:
            outcome.refused = True
            outcome.timings = steps.timings
            return outcome
        with steps.step("replaying the new migration and diffing again", "verify"):
            outcome.notes += verify(shadows, outcome.files, steps)
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


def write_migration(compiled: Compiled, files: list[PlannedFile]) -> list[str]:
    """Write the planned files, record them and the desired state, refresh the rest of generated/
    (all in one staged commit: a kill leaves the old generated/ or the new one)."""
    recorded: list[GeneratedFile] = []
    for planned in files:
        recorded.append(GeneratedFile(planned.relative_path, planned.text))
        if not planned.transactional:
            recorded.append(GeneratedFile(planned.relative_path + ".conf", NON_TRANSACTIONAL_CONF))
    return emit(compiled, new_migrations=recorded).written


# -- planning -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    enum_values: list[str] = field(default_factory=list)  # committed before anything may use them
    statements: list[str] = field(default_factory=list)
    concurrent: dict[str, list[str]] = field(default_factory=dict)  # index name -> its statements


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
    server = shadows.server
    desired_url = server.url(shadows.desired)
    plan = _Plan()
    with (
        clone(server, shadows.migrations) as work_url,
        connect(work_url) as work,
        connect(desired_url) as desired,
    ):
        renames = _apply_renames(work, desired, compiled)
        plan.enum_values = enum_additions(read_enums(work), read_enums(desired))
        for statement in plan.enum_values:
            work.execute(statement)
        column_types = _column_types(work)
        roles, notes = role_statements(compiled, shadows.roles)
        outcome.notes += notes
        with steps.step("diffing with migra", "migra"):
            from_migra = _repair_partitioned(desired, migra_statements(work_url, desired_url))
        desired_facts = read_facts(desired)  # the desired database never changes in here
        domain_facts = compare_facts(
            read_facts(work), desired_facts, lambda key: key.category != "domain"
        )
        domains = supplement_statements(domain_facts)
        creates = [s for s in domains.statements if s.startswith("CREATE DOMAIN")]
        others = [s for s in domains.statements if not s.startswith("CREATE DOMAIN")]
        applied = _apply_in_working_order(work, [*roles, *creates, *from_migra, *others])
        with steps.step("comparing comments, privileges and options", "facts"):
            supplement = supplement_statements(compare_facts(read_facts(work), desired_facts))
        unresolved = domains.unresolved + supplement.unresolved
        if unresolved:
            raise DiffFailed(
                "schemac cannot write these differences; change the YAML or write the migration "
                "by hand:\n" + "\n".join(f"  {d.describe()} ({why})" for d, why in unresolved)
            )
        applied += _apply_in_working_order(work, supplement.statements)
        plan.statements = for_target(shadows, renames + applied, compiled.settings.postgres_version)
        outcome.destructive = _destructive(plan.statements, column_types, _column_types(desired))
        outcome.destructive += [
            DestructiveChange(s, why) for s, why in domains.destructive + supplement.destructive
        ]
    _split_concurrent(compiled, plan)
    outcome.files = _files(compiled, migrations, plan, description, slug)
    return outcome


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


# -- partitioned tables ---------------------------------------------------------------------------

_CREATE_INDEX = re.compile(
    rf"^create (?:unique )?index (?:if not exists )?(?P<name>{NAME}) on (?P<only>only )?"
    rf"(?P<schema>{NAME})\s*\.",
    re.I,
)
_KEY_USING_INDEX = re.compile(
    rf"^alter table (?P<schema>{NAME})\.(?P<table>{NAME}) add constraint "
    rf"(?P<name>{NAME}) .* using index {NAME};?$",
    re.I | re.S,
)


def _repair_partitioned(desired: psycopg.Connection[Any], statements: list[str]) -> list[str]:
    """migra writes a partitioned table's indexes as PostgreSQL reports them: `ON ONLY` the
    parent (an index that stays invalid until every partition's index is attached, which migra
    never does), one index per partition, and keys added `USING INDEX` (which PostgreSQL
    refuses on a partitioned table). PostgreSQL builds all of that itself from the parent's
    definition, so: indexes and key constraints a partition inherits are left out, an index
    on the parent is created without ONLY (it cascades to the partitions), and a key of the
    parent is added from its definition."""
    inherited_indexes = {
        (str(schema), str(name))
        for schema, name in desired.execute(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_inherits i "
            "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('i', 'I')"
        ).fetchall()
    }
    inherited_constraints = {
        (str(schema), str(name))
        for schema, name in desired.execute(
            "SELECT n.nspname, k.conname FROM pg_catalog.pg_constraint k "
            "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace WHERE k.conparentid <> 0"
        ).fetchall()
    }
    parent_keys = {
        (str(schema), str(name)): str(definition)
        for schema, name, definition in desired.execute(
            "SELECT n.nspname, k.conname, pg_catalog.pg_get_constraintdef(k.oid) "
            "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class t ON t.oid = k.conrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace "
            "WHERE t.relkind = 'p' AND k.contype IN ('p', 'u', 'x')"
        ).fetchall()
    }
    if not (inherited_indexes or parent_keys):
        return statements
    repaired: list[str] = []
    for statement in statements:
        index = _CREATE_INDEX.match(statement)
        if index:
            name = (unquote(index["schema"]), unquote(index["name"]))
            if name in inherited_indexes or name in parent_keys:
                continue  # built by the partition's parent, or by the key added below
            if index["only"]:
                statement = statement[: index.start("only")] + statement[index.end("only") :]
            repaired.append(statement)
            continue
        key = _KEY_USING_INDEX.match(statement)
        if key:
            name = (unquote(key["schema"]), unquote(key["name"]))
            if name in inherited_constraints:
                continue
            if name in parent_keys:
                repaired.append(
                    f"alter table {key['schema']}.{key['table']} add constraint {key['name']} "
                    f"{parent_keys[name]};"
                )
                continue
        repaired.append(statement)
    return repaired


# -- renames --------------------------------------------------------------------------------------


def _relation_oid(conn: psycopg.Connection[Any], schema: str, name: str) -> int | None:
    row = conn.execute(
        "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    ).fetchone()
    return int(row[0]) if row else None


def _columns(conn: psycopg.Connection[Any], oid: int) -> set[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped",
        (oid,),
    ).fetchall()
    return {str(r[0]) for r in rows}


def _apply_renames(
    work: psycopg.Connection[Any], desired: psycopg.Connection[Any], compiled: Compiled
) -> list[str]:
    """ALTER ... RENAME for declared renames (so the data stays), applied to the work database."""
    statements: list[str] = []
    touched: list[tuple[str, str]] = []

    def run(statement: str) -> None:
        work.execute(statement)
        statements.append(statement)

    for _, table in compiled.project.tables:
        schema, name = table.qname.schema, table.qname.name
        if (
            table.renamed_from
            and _relation_oid(work, schema, name) is None
            and _relation_oid(work, schema, table.renamed_from) is not None
        ):
            run(
                f"ALTER TABLE {quote_qualified(schema, table.renamed_from)} RENAME TO {quote_ident(name)};"
            )
            touched.append((schema, name))
    for _, table in compiled.project.tables:
        if not any(column.renamed_from for column in table.columns):
            continue  # two catalog round trips per table are only worth it for a declared rename
        oid = _relation_oid(work, table.qname.schema, table.qname.name)
        if oid is None:
            continue
        present = _columns(work, oid)
        for column in table.columns:
            if (
                column.renamed_from
                and column.name not in present
                and column.renamed_from in present
            ):
                run(
                    f"ALTER TABLE {table.qname.sql} RENAME COLUMN {quote_ident(column.renamed_from)} "
                    f"TO {quote_ident(column.name)};"
                )
                present = (present - {column.renamed_from}) | {column.name}
                touched.append((table.qname.schema, table.qname.name))
    for schema, name in dict.fromkeys(touched):
        for statement in _rename_dependents(work, desired, schema, name):
            run(statement)
    return statements


_INDEX_NAME = re.compile(r'^(CREATE (?:UNIQUE )?INDEX )("(?:[^"]|"")+"|\S+)( ON )')


def _rename_dependents(
    work: psycopg.Connection[Any], desired: psycopg.Connection[Any], schema: str, table: str
) -> list[str]:
    """Constraints and indexes named after the old table or column, renamed to the YAML's names.

    Matched by definition: after the rename a constraint reads the same in both databases,
    only its name (chosen by PostgreSQL from the old names) differs.
    """
    work_oid, desired_oid = (
        _relation_oid(work, schema, table),
        _relation_oid(desired, schema, table),
    )
    if work_oid is None or desired_oid is None:
        return []
    statements: list[str] = []
    constraint_query = (
        "SELECT conname, contype::text || ':' || pg_catalog.pg_get_constraintdef(oid) "
        "FROM pg_catalog.pg_constraint WHERE conrelid = %s"
    )
    current = dict(work.execute(constraint_query, (work_oid,)).fetchall())
    wanted = dict(desired.execute(constraint_query, (desired_oid,)).fetchall())
    statements += [
        f"ALTER TABLE {quote_qualified(schema, table)} RENAME CONSTRAINT {quote_ident(old)} "
        f"TO {quote_ident(new)};"
        for old, new in _renamed_by_definition(current, wanted)
    ]
    index_query = (
        "SELECT c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i "
        "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s AND NOT EXISTS "
        "(SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = i.indrelid "
        "AND k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))"
    )
    # Constraint renames above also rename their indexes; the rest are plain indexes.
    current_indexes = {
        n: _INDEX_NAME.sub(r"\1?\3", d)
        for n, d in work.execute(index_query, (work_oid,)).fetchall()
    }
    wanted_indexes = {
        n: _INDEX_NAME.sub(r"\1?\3", d)
        for n, d in desired.execute(index_query, (desired_oid,)).fetchall()
    }
    statements += [
        f"ALTER INDEX {quote_qualified(schema, old)} RENAME TO {quote_ident(new)};"
        for old, new in _renamed_by_definition(current_indexes, wanted_indexes)
    ]
    # Identity and serial columns own a sequence named after the table and column; neither migra nor the
    # catalog facts compare those names, so renaming keeps the database as a fresh build names it.
    sequence_query = (
        "SELECT a.attname, s.relname FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.refobjid = %s AND d.deptype IN ('i', 'a') AND d.refobjsubid > 0"
    )
    current_sequences = dict(work.execute(sequence_query, (work_oid,)).fetchall())
    wanted_sequences = dict(desired.execute(sequence_query, (desired_oid,)).fetchall())
    statements += [
        f"ALTER SEQUENCE {quote_qualified(schema, old)} RENAME TO "
        f"{quote_ident(wanted_sequences[column])};"
        for column, old in sorted(current_sequences.items())
        if column in wanted_sequences and wanted_sequences[column] != old
    ]
    return statements


def _renamed_by_definition(
    current: dict[str, str], wanted: dict[str, str]
) -> list[tuple[str, str]]:
    only_current = {name: d for name, d in current.items() if name not in wanted}
    only_wanted = {name: d for name, d in wanted.items() if name not in current}
    pairs = []
    for old, definition in sorted(only_current.items()):
        new = next((n for n, d in sorted(only_wanted.items()) if d == definition), None)
        if new is not None:
            pairs.append((old, new))
            del only_wanted[new]
    return pairs


# -- destructive statements -----------------------------------------------------------------------


def _column_types(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], str]:
    rows = conn.execute("""
        SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
    """).fetchall()
    return {(str(s), str(t), str(c)): str(ty) for s, t, c, ty in rows}


_DESTRUCTIVE = [
    (
        re.compile(rf"^drop table (?:if exists )?{QUALIFIED_NAME}", re.I),
        "drops table {0} and every row in it",
    ),
    (
        re.compile(
            rf"^alter table (?:only )?{QUALIFIED_NAME} drop column (?:if exists )?({NAME})", re.I
        ),
        "drops column {1} of {0} and its data",
    ),
    (re.compile(rf"^drop schema (?:if exists )?({NAME})", re.I), "drops schema {0}"),
    (
        re.compile(rf"^drop sequence (?:if exists )?{QUALIFIED_NAME}", re.I),
        "drops sequence {0} and its current value",
    ),
]
_DROP_TYPE = re.compile(rf"^drop type (?:if exists )?{QUALIFIED_NAME}", re.I)
_SET_TYPE = re.compile(
    rf"^alter table (?:only )?{QUALIFIED_NAME} alter column ({NAME}) set data type ", re.I
)
_OLD_ENUM_SUFFIX = "__old_version_to_be_dropped"


def _destructive(
    statements: list[str],
    before: dict[tuple[str, str, str], str],
    after: dict[tuple[str, str, str], str],
) -> list[DestructiveChange]:
    found: list[DestructiveChange] = []
    for statement in statements:
        for pattern, reason in _DESTRUCTIVE:
            match = pattern.match(statement)
            if match:
                found.append(
                    DestructiveChange(
                        statement, reason.format(*(unquote(g) for g in match.groups()))
                    )
                )
        match = _DROP_TYPE.match(statement)
        if match:
            name = unquote(match.group(1))
            if name.endswith(_OLD_ENUM_SUFFIX):
                found.append(
                    DestructiveChange(
                        statement,
                        f"enum {name.removesuffix(_OLD_ENUM_SUFFIX)} loses or "
                        "reorders values; rows holding a removed value make "
                        "the migration fail",
                    )
                )
            else:
                found.append(DestructiveChange(statement, f"drops type {name}"))
        match = _SET_TYPE.match(statement)
        if match:
            schema, table = unquote(match.group(1)).split(".", 1)
            column = unquote(match.group(2))
            old, new = before.get((schema, table, column)), after.get((schema, table, column))
            if old is None or new is None or not is_widening(old, new):
                found.append(
                    DestructiveChange(
                        statement,
                        f"changes the type of {schema}.{table}.{column} from "
                        f"{old} to {new}, which may lose or reject data",
                    )
                )
    return found


_INTEGERS = ("smallint", "integer", "bigint")
_VARCHAR = re.compile(r"character varying(?:\((\d+)\))?")
_NUMERIC = re.compile(r"numeric(?:\((\d+),(\d+)\))?")


def is_widening(old: str, new: str) -> bool:
    """Whether every value of type ``old`` converts to ``new`` unchanged (format_type spelling)."""
    if old == new:
        return True
    if old in _INTEGERS:
        return (
            new in _INTEGERS and _INTEGERS.index(new) >= _INTEGERS.index(old)
        ) or new == "numeric"
    if old == "real":
        return new == "double precision"
    varchar_old = _VARCHAR.fullmatch(old)
    if varchar_old:
        if new == "text":
            return True
        varchar_new = _VARCHAR.fullmatch(new)
        if varchar_new:
            return varchar_new.group(1) is None or (
                varchar_old.group(1) is not None
                and int(varchar_new.group(1)) >= int(varchar_old.group(1))
            )
        return False
    numeric_old, numeric_new = _NUMERIC.fullmatch(old), _NUMERIC.fullmatch(new)
    if numeric_old and numeric_new:
        if numeric_new.group(1) is None:
            return True
        if numeric_old.group(1) is None:
            return False
        old_precision, old_scale = int(numeric_old.group(1)), int(numeric_old.group(2))
        new_precision, new_scale = int(numeric_new.group(1)), int(numeric_new.group(2))
        return new_scale >= old_scale and new_precision - new_scale >= old_precision - old_scale
    return False


# -- files ----------------------------------------------------------------------------------------

_COMMENT_ON_INDEX = re.compile(rf"^COMMENT ON INDEX {QUALIFIED_NAME} ", re.I)


def _split_concurrent(compiled: Compiled, plan: _Plan) -> None:
    """Indexes declared `concurrently: true` leave the transaction for a file of their own."""
    concurrent = {
        obj.node.key.split(":", 1)[1]
        for obj in compiled.objects
        if obj.node.kind == "index" and obj.node.obj.concurrently
    }
    kept: list[str] = []
    for statement in plan.statements:
        match = _CREATE_INDEX.match(statement)
        if match:
            qualified = f"{unquote(match['schema'])}.{unquote(match['name'])}"
            if qualified in concurrent:
                plan.concurrent.setdefault(qualified, []).append(_concurrently(statement))
                continue
        match = _COMMENT_ON_INDEX.match(statement)
        if match and unquote(match.group(1)) in plan.concurrent:
            plan.concurrent[unquote(match.group(1))].append(statement)
            continue
        kept.append(statement)
    plan.statements = kept


def _concurrently(statement: str) -> str:
    return re.sub(
        r"^(create (?:unique )?index )", r"\1CONCURRENTLY ", statement, count=1, flags=re.I
    )


def _files(
    compiled: Compiled, migrations: list[MigrationScript], plan: _Plan, description: str, slug: str
) -> list[PlannedFile]:
    names = [flyway.parse_migration_name(m.name) for m in migrations]
    version = int(
        flyway.next_version([n for n in names if n is not None], compiled.settings.version_width)
    )
    width = compiled.settings.version_width
    files: list[PlannedFile] = []

    def add(suffix: str, statements: list[str], transactional: bool, note: str = "") -> None:
        nonlocal version
        name = f"V{version:0{width}d}__{slug}{suffix}.sql"
        header = f"{DO_NOT_EDIT}-- {_comment_line(description)}\n{note}"
        files.append(
            PlannedFile(name, header + "".join(f"\n{s}\n" for s in statements), transactional)
        )
        version += 1

    enum_values, statements = plan.enum_values, plan.statements
    if enum_values and not statements and not plan.concurrent:
        statements, enum_values = enum_values, []
    if enum_values:
        add(
            "_enum_values",
            enum_values,
            True,
            "-- PostgreSQL cannot use an enum value in the transaction that adds it, so new values\n"
            "-- are committed in a migration of their own, before the migration that may use them.\n",
        )
    if statements:
        add("", statements, True)
    for index_name, index_statements in plan.concurrent.items():
        add(
            f"_index_{index_name.split('.', 1)[1]}",
            index_statements,
            False,
            "-- CREATE INDEX CONCURRENTLY cannot run in a transaction: this file has a .conf with\n"
            "-- executeInTransaction=false.\n",
        )
    for planned in files:
        if "${" in planned.text:
            raise DiffFailed(
                f"{planned.name} would contain '${{', which Flyway replaces as a placeholder"
            )
    return files


def _comment_line(text: str) -> str:
    return " ".join(text.split())


# -- verification ---------------------------------------------------------------------------------


def verify(shadows: Shadows, files: list[PlannedFile], steps: Steps) -> list[str]:
    """Run the files on a fresh clone of shadow A as Flyway will; it must then equal shadow B.

    Returns the warnings (a column order ALTER TABLE cannot reproduce), one line each.
    """
    server: PostgresServer = shadows.server
    with clone(server, shadows.migrations) as url:
        with connect(url) as conn:
            try:
                for planned in files:
                    run_script(conn, planned.name, planned.text, planned.transactional)
            except SchemacError as error:
                raise DiffFailed(
                    f"the new migration does not run on the migrated schema: {error}"
                ) from None
        comparison = compare_databases(url, server.url(shadows.desired), steps=steps)
    if not comparison.equal:
        listing = "\n".join(f"  {d.object}: {_one_line(d.detail)}" for d in comparison.differences)
        when = "after the new migration" if files else "with no statement to write"
        raise DiffFailed(
            f"{when} the schema still differs from the YAML, so nothing was "
            f"written (a gap in migra or schemac; please report it):\n{listing}"
        )
    return [f"{d.object}: {d.detail()}" for d in comparison.warnings]
