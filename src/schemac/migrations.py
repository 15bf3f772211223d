"""generated/migrations as Flyway runs them: read in version order, replayed, checked.

A transactional file runs in one transaction of its own; the statements of a file whose
``.conf`` says ``executeInTransaction=false`` run one by one (split by PostgreSQL's parser).
``integrity_problems`` finds recorded migrations edited, deleted, renamed or renumbered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from schemac import flyway
from schemac.errors import UsageError, read_utf8
from schemac.records import INTEGRITY_FILE, MIGRATIONS_DIR, read_integrity, sha256
from schemac.sql.parse import SqlSyntaxError
from schemac.sql.statements import split

# Bump when the way shadows are built changes, so templates kept on a dev server are rebuilt.
SHADOW_FORMAT = "2"  # 2: shadow A keeps the roles its migrations left


@dataclass(frozen=True)
class MigrationScript:
    """A versioned migration of generated/migrations, as Flyway will run it."""

    name: str
    text: str
    transactional: bool
    version: tuple[int, ...]

    @property
    def relative_path(self) -> str:
        return f"{MIGRATIONS_DIR}/{self.name}"


def read_migrations(generated: Path) -> list[MigrationScript]:
    """generated/migrations in Flyway's order; names Flyway would reject are errors."""
    folder = generated / MIGRATIONS_DIR
    if not folder.is_dir():
        return []
    problems = [
        f"{MIGRATIONS_DIR}/{p.name}: not a Flyway versioned migration name (V<version>__<description>.sql)"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name.lower().endswith(".sql") and not _is_versioned(p.name)
    ]
    found = [f for f in flyway.scan_migrations(folder) if f.name.is_versioned]
    for first, second in flyway.find_version_collisions(f.name for f in found):
        problems.append(
            f"{MIGRATIONS_DIR}/{first} and {second} have the same version; Flyway refuses both"
        )
    if problems:
        raise UsageError("; ".join(problems))
    scripts = [
        MigrationScript(
            f.path.name,
            read_utf8(f.path),
            f.execute_in_transaction,
            f.name.version or (),
        )
        for f in found
    ]
    return sorted(scripts, key=lambda s: s.version)


def _is_versioned(filename: str) -> bool:
    parsed = flyway.parse_migration_name(filename)
    return parsed is not None and parsed.is_versioned


def migrations_digest(migrations: list[MigrationScript]) -> str:
    digest = hashlib.sha256(f"migrations/{SHADOW_FORMAT}".encode())
    for script in migrations:
        digest.update(f"\0{script.name}\0{script.transactional}\0".encode())
        digest.update(script.text.encode("utf-8"))
    return digest.hexdigest()


def split_statements(text: str) -> list[str]:
    """The statements of SQL text as PostgreSQL splits them (dollar quotes, comments, BEGIN
    ATOMIC bodies respected), each without its semicolon; comment-only pieces are dropped.

    Used for non-transactional files, which Flyway also runs one statement at a time.
    """
    return [s.text for s in split(text)]


class MigrationFailed(UsageError):
    """A migration of generated/ does not run on a fresh database."""


def error_text(error: psycopg.Error) -> str:
    diag = error.diag
    text = diag.message_primary or str(error).strip().splitlines()[0]
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    return text


def _line_of(error: psycopg.Error, text: str) -> int | None:
    position = error.diag.statement_position
    if not position:
        return None
    return text[: int(position) - 1].count("\n") + 1


def run_script(conn: psycopg.Connection[Any], name: str, text: str, transactional: bool) -> None:
    """Run one migration file as Flyway would; raise MigrationFailed naming the file and line.

    ``conn`` must be in autocommit mode: a transactional file gets a transaction of its own,
    the statements of a non-transactional file run one by one outside any.
    """
    if transactional:
        pieces = [(text, 0)]
    else:
        try:
            statements = split(text)
        except SqlSyntaxError as error:
            at = text[: error.error.offset].count("\n") + 1
            where = f"{MIGRATIONS_DIR}/{name}, line {at}"
            raise MigrationFailed(f"{where}: {error.error.message}") from None
        pieces = [(s.text, text[: s.offset].count("\n")) for s in statements]
    for piece, line_offset in pieces:
        try:
            if transactional:
                with conn.transaction():
                    conn.execute(piece)
            else:
                conn.execute(piece)
        except psycopg.Error as error:
            line = _line_of(error, piece)
            if line is None and not transactional:
                line = 1  # no position in the error: the statement's own first line
            where = f"{MIGRATIONS_DIR}/{name}" + (f", line {line + line_offset}" if line else "")
            raise MigrationFailed(f"{where}: {error_text(error)}") from None


@dataclass(frozen=True)
class IntegrityProblem:
    """A migration file that no longer matches what schemac recorded when it wrote it."""

    file: str  # relative to generated/
    message: str


def integrity_problems(generated: Path) -> list[IntegrityProblem]:
    """Recorded migrations edited, deleted, renamed or renumbered; migration files never recorded."""
    integrity = read_integrity(generated)
    folder = generated / MIGRATIONS_DIR
    present: dict[str, str] = {}
    if folder.is_dir():
        present = {
            p.name: read_utf8(p)
            for p in sorted(folder.iterdir())
            if p.is_file() and p.name.lower().endswith(".sql")  # Flyway takes .SQL as well
        }
    problems: list[IntegrityProblem] = []
    if integrity is None:
        if present:
            problems.append(
                IntegrityProblem(
                    INTEGRITY_FILE,
                    "is missing, but generated/migrations holds "
                    "migrations; restore it from version control",
                )
            )
        return problems
    recorded = integrity.migrations
    sums = {sha256(text): name for name, text in present.items() if name not in recorded}
    moved: set[str] = set()
    for name, entry in sorted(recorded.items()):
        path = f"{MIGRATIONS_DIR}/{name}"
        if name in present:
            conf = folder / f"{name}.conf"
            conf_sum = sha256(read_utf8(conf)) if conf.is_file() else None
            if conf_sum != entry.get("conf_sha256"):
                problems.append(
                    IntegrityProblem(
                        f"{path}.conf",
                        "was added, edited or deleted after schemac wrote the migration; it "
                        "decides whether Flyway runs the file in a transaction (restore it)",
                    )
                )
            if sha256(present[name]) != entry.get("sha256"):
                problems.append(
                    IntegrityProblem(
                        path,
                        "was edited after schemac wrote it; an applied migration "
                        "must never change (restore it and write a new one with "
                        "`schemac diff`)",
                    )
                )
            continue
        other = sums.get(str(entry.get("sha256")))
        if other is not None:
            moved.add(other)
            old, new = flyway.parse_migration_name(name), flyway.parse_migration_name(other)
            how = "renumbered" if old and new and old.description == new.description else "renamed"
            problems.append(
                IntegrityProblem(
                    f"{MIGRATIONS_DIR}/{other}",
                    f"is {name} {how}; Flyway would run it again as a new migration "
                    f"(rename it back to {name})",
                )
            )
        else:
            problems.append(
                IntegrityProblem(
                    path,
                    "was deleted; databases that applied it no longer match "
                    "generated/ (restore it from version control)",
                )
            )
    for name in sorted(set(present) - set(recorded) - moved):
        problems.append(
            IntegrityProblem(
                f"{MIGRATIONS_DIR}/{name}",
                "is not recorded in integrity.json: schemac did not write it "
                "(write migrations with `schemac diff`)",
            )
        )
    if folder.is_dir():
        for conf in sorted(folder.glob("*.sql.conf")):
            if not (folder / conf.name[: -len(".conf")]).is_file():
                problems.append(
                    IntegrityProblem(
                        f"{MIGRATIONS_DIR}/{conf.name}",
                        "belongs to no migration (its .sql file is missing)",
                    )
                )
    return problems
