"""The typed plan as Flyway files: numbering, headers, timeouts, the non-transactional files of
concurrent indexes, the files of validations, and writing them into generated/ with their
integrity record."""

from __future__ import annotations

from dataclasses import dataclass, replace

from schemac import flyway
from schemac.compiler import Compiled
from schemac.drift import MigrationScript
from schemac.emit import emit
from schemac.errors import SchemacError
from schemac.generated_files import NON_TRANSACTIONAL_CONF
from schemac.generated_plan import adds_virtual_column
from schemac.naming import file_safe, quote_literal, quote_qualified
from schemac.online import MigrationSettings, Stage
from schemac.plan import Operation
from schemac.records import DO_NOT_EDIT, MIGRATIONS_DIR, GeneratedFile
from schemac.sql.classify import classify
from schemac.sql.names import parse_name_chain


class DiffFailed(SchemacError):
    """schemac could not write a migration that provably turns the migrations' schema into the YAML's."""

    exit_code = 2


@dataclass(frozen=True)
class PlannedFile:
    name: str  # V004__add_course_ratings.sql
    text: str
    transactional: bool
    operations: tuple[Operation, ...] = ()  # what the file does, statement by statement

    @property
    def relative_path(self) -> str:
        return f"{MIGRATIONS_DIR}/{self.name}"


# The header line that records `schemac diff --allow-destructive` / `--allow-rewrite`: lint and
# check read it as the acknowledgement of those kinds of finding in this file.
ALLOWED_MARK = "-- allowed by schemac diff on the command line: "


def with_allowance(planned: PlannedFile, kinds: list[str]) -> PlannedFile:
    """The file with the hazard kinds allowed on the command line recorded in its header."""
    if not kinds:
        return planned
    head, _, rest = planned.text.partition("\n\n")
    text = f"{head}\n{ALLOWED_MARK}{', '.join(kinds)}\n\n{rest}"
    return replace(planned, text=text)


def allowed_kinds(text: str) -> frozenset[str]:
    """The kinds `with_allowance` recorded in a migration's header (its leading comments)."""
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if line.startswith(ALLOWED_MARK):
            return frozenset(k.strip() for k in line.removeprefix(ALLOWED_MARK).split(","))
    return frozenset()


def write_migration(compiled: Compiled, files: list[PlannedFile]) -> list[str]:
    """Write the planned files, record them and the desired state, refresh the rest of generated/
    (all in one staged commit: a kill leaves the old generated/ or the new one)."""
    recorded: list[GeneratedFile] = []
    for planned in files:
        recorded.append(GeneratedFile(planned.relative_path, planned.text))
        if not planned.transactional:
            recorded.append(GeneratedFile(planned.relative_path + ".conf", NON_TRANSACTIONAL_CONF))
    return emit(compiled, new_migrations=recorded).written


def declared_concurrent(compiled: Compiled) -> frozenset[str]:
    """Indexes the YAML declares `concurrently: true`: built concurrently even on a new table
    (quoted as online.py keys them: a name may contain dots)."""
    return frozenset(
        quote_qualified(obj.node.obj.table.schema, obj.node.obj.name)
        for obj in compiled.objects
        if obj.node.kind == "index" and obj.node.obj.concurrently
    )


def preamble(stage: Stage, settings: MigrationSettings) -> str:
    """The timeouts a file starts with (docs/safety.md, "Timeouts").

    A transactional file uses SET LOCAL: Flyway runs every migration on the same connection,
    and a plain SET would outlive the file's transaction and bind the later migrations
    (hand-written ones too) and Flyway's own bookkeeping. SET LOCAL does nothing outside a
    transaction block, so a non-transactional file uses SET and RESETs at its end."""
    if stage is Stage.INDEX:
        # CREATE INDEX CONCURRENTLY holds SHARE UPDATE EXCLUSIVE, which no read or write waits
        # for, and then waits for older transactions: a lock_timeout would only make it fail,
        # leaving an INVALID index behind; a statement_timeout would kill a long build.
        return "SET lock_timeout = '0';\nSET statement_timeout = '0';\n"
    statement_timeout = "0" if stage is Stage.VALIDATE else settings.statement_timeout
    return (
        f"SET LOCAL lock_timeout = {quote_literal(settings.lock_timeout)};\n"
        f"SET LOCAL statement_timeout = {quote_literal(statement_timeout)};\n"
    )


_INDEX_EPILOGUE = "RESET lock_timeout;\nRESET statement_timeout;\n"

# Why each kind of file exists, in its header.
_NOTES = {
    Stage.ENUM_VALUES: "-- PostgreSQL cannot use an enum value in the transaction that adds it, so new values\n"
    "-- are committed in a migration of their own, before the migration that may use them.\n",
    Stage.INDEX: "-- CREATE INDEX CONCURRENTLY cannot run in a transaction: this file has a .conf with\n"
    "-- executeInTransaction=false. Reads and writes of the table go on while it builds.\n",
    Stage.VALIDATE: "-- The constraints were added NOT VALID by the previous migrations (a moment of lock, no\n"
    "-- scan); validating them scans the table under SHARE UPDATE EXCLUSIVE: writes go on.\n",
    Stage.NOT_NULL: "-- The validated CHECK (column IS NOT NULL) lets PostgreSQL set NOT NULL without scanning\n"
    "-- the table; the check is then dropped.\n",
    Stage.KEYS: "-- The unique indexes were built CONCURRENTLY by the previous migrations; each becomes its\n"
    "-- key here (a moment of ACCESS EXCLUSIVE, nothing built or scanned).\n",
}
_SUFFIXES = {
    Stage.ENUM_VALUES: "_enum_values",
    Stage.VALIDATE: "_validate",
    Stage.NOT_NULL: "_not_null",
    Stage.KEYS: "_keys",
}


def plan_files(
    compiled: Compiled,
    migrations: list[MigrationScript],
    planned: list[Operation],
    description: str,
    slug: str,
) -> list[PlannedFile]:
    """The operations as Flyway files, in stage order: enum values, the migration, one file per
    concurrent index, the validations, the NOT NULLs they prove. Enum values alone go in the
    migration itself."""
    names = [flyway.parse_migration_name(m.name) for m in migrations]
    version = int(
        flyway.next_version([n for n in names if n is not None], compiled.settings.version_width)
    )
    width = compiled.settings.version_width
    files: list[PlannedFile] = []
    groups: dict[tuple[Stage, str | None], list[Operation]] = {}
    for operation in planned:
        groups.setdefault((operation.stage, operation.group), []).append(operation)
    if set(groups) == {(Stage.ENUM_VALUES, None)}:
        groups = {(Stage.MAIN, None): groups[(Stage.ENUM_VALUES, None)]}
    for (stage, group), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        suffix = _SUFFIXES.get(stage, "")
        if stage is Stage.INDEX and group is not None:
            suffix = f"_index_{file_safe(parse_name_chain(group).parts[-1])}"
        name = f"V{version:0{width}d}__{slug}{suffix}.sql"
        header = f"{DO_NOT_EDIT}-- {_comment_line(description)}\n{_NOTES.get(stage, '')}"
        body = "".join(f"\n{_in_place_mark(o)}{o.sql}\n" for o in members)
        epilogue = f"\n{_INDEX_EPILOGUE}" if stage is Stage.INDEX else ""
        text = f"{header}\n{preamble(stage, compiled.settings.migrations)}{body}{epilogue}"
        files.append(PlannedFile(name, text, stage is not Stage.INDEX, tuple(members)))
        version += 1
    for planned_file in files:
        if "${" in planned_file.text:
            raise DiffFailed(
                f"{planned_file.name} would contain '${{', which Flyway replaces as a placeholder"
            )
    return files


# Before a column type change that PostgreSQL makes without rewriting the table (locks.py):
# squawk cannot know the old type, so squawk_context.py reads this line and keeps its
# changing-column-type finding as info.
IN_PLACE_MARK = (
    "-- schemac: the type change below rewrites nothing (the old values are kept as stored)"
)


# Before a SET NOT NULL that the validated CHECK of the previous file proves: squawk cannot see
# that check, and keeps its adding-not-nullable-field finding as info after this line.
PROVEN_MARK = (
    "-- schemac: the validated CHECK (column IS NOT NULL) proves this, so nothing is scanned"
)


# Before ADD COLUMN of a virtual generated column (PostgreSQL 18): squawk takes every generated
# column for a stored one, and keeps its adding-field-with-default finding as info after this.
VIRTUAL_MARK = "-- schemac: the column below is virtual (computed when read): no row is rewritten"


def _in_place_mark(operation: Operation) -> str:
    if operation.proven:
        return PROVEN_MARK + "\n"
    if operation.kind != "alter table" or operation.rewrites or operation.locked is None:
        return ""
    if adds_virtual_column(operation.sql):
        return VIRTUAL_MARK + "\n"
    if not any(c.action == "set data type" for c in classify(operation.sql).subcommands):
        return ""
    return IN_PLACE_MARK + "\n"


def _comment_line(text: str) -> str:
    return " ".join(text.split())
