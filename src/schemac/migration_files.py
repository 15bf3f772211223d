"""The planned migration as Flyway files: numbering, headers, the non-transactional files of
concurrent indexes, and writing them into generated/ with their integrity record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from schemac import flyway
from schemac.compiler import Compiled
from schemac.drift import NAME, QUALIFIED_NAME, MigrationScript, unquote
from schemac.emit import (
    DO_NOT_EDIT,
    MIGRATIONS_DIR,
    NON_TRANSACTIONAL_CONF,
    GeneratedFile,
    emit,
)
from schemac.errors import SchemacError

CREATE_INDEX = re.compile(
    rf"^create (?:unique )?index (?:if not exists )?(?P<name>{NAME}) on (?P<only>only )?"
    rf"(?P<schema>{NAME})\s*\.",
    re.I,
)


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


@dataclass
class Plan:
    enum_values: list[str] = field(default_factory=list)  # committed before anything may use them
    statements: list[str] = field(default_factory=list)
    concurrent: dict[str, list[str]] = field(default_factory=dict)  # index name -> its statements


def write_migration(compiled: Compiled, files: list[PlannedFile]) -> list[str]:
    """Write the planned files, record them and the desired state, refresh the rest of generated/
    (all in one staged commit: a kill leaves the old generated/ or the new one)."""
    recorded: list[GeneratedFile] = []
    for planned in files:
        recorded.append(GeneratedFile(planned.relative_path, planned.text))
        if not planned.transactional:
            recorded.append(GeneratedFile(planned.relative_path + ".conf", NON_TRANSACTIONAL_CONF))
    return emit(compiled, new_migrations=recorded).written


_COMMENT_ON_INDEX = re.compile(rf"^COMMENT ON INDEX {QUALIFIED_NAME} ", re.I)


def split_concurrent(compiled: Compiled, plan: Plan) -> None:
    """Indexes declared `concurrently: true` leave the transaction for a file of their own."""
    concurrent = {
        obj.node.key.split(":", 1)[1]
        for obj in compiled.objects
        if obj.node.kind == "index" and obj.node.obj.concurrently
    }
    kept: list[str] = []
    for statement in plan.statements:
        match = CREATE_INDEX.match(statement)
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


def plan_files(
    compiled: Compiled, migrations: list[MigrationScript], plan: Plan, description: str, slug: str
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
