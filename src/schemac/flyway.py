"""What schemac must agree on with Flyway: checksums, migration file names, the history table.

The rules below are Flyway's own (open-source edition 10 to 13), read from its source:
``ChecksumCalculator`` / ``BomFilter`` for the checksum, ``ResourceNameParser`` and
``MigrationVersion`` for file names and versions.  tests/flyway/ checks them against the
real Flyway through its Maven plugin (flyway/pom.xml).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from schemac.errors import read_utf8

DEFAULT_HISTORY_TABLE = "flyway_schema_history"
VERSIONED_PREFIX = "V"
REPEATABLE_PREFIX = "R"
SEPARATOR = "__"
SQL_SUFFIX = ".sql"
CONF_SUFFIX = ".conf"

_BOM = "\ufeff"
_VERSION_TEXT = re.compile(r"[0-9]+(?:[._][0-9]+)*")

MigrationKind = Literal["V", "R"]


def checksum(data: bytes) -> int:
    """Flyway's checksum of a migration file's bytes (UTF-8), as stored in the history table.

    Flyway reads the file through ``BufferedReader.readLine()``, which ends a line at
    ``\\n``, ``\\r`` or ``\\r\\n`` and hands back the line without its terminator; it removes
    one U+FEFF from the start of the first line (``BomFilter``), then feeds each line's
    UTF-8 bytes to one ``java.util.zip.CRC32`` and stores ``(int) crc32.getValue()``.
    Since only terminators separate lines and none of them reaches the CRC, this is the
    CRC32 of the text with every CR and LF removed: line-ending style does not change it,
    blank lines do not either, while any other whitespace and comments do.

    Flyway decodes with its configured encoding (UTF-8 by default) and refuses a file it
    cannot decode, so invalid UTF-8 raises ``UnicodeDecodeError`` here too rather than
    producing a checksum Flyway would never record.
    """
    text = data.decode("utf-8")
    if text.startswith(_BOM):
        text = text[1:]
    unsigned = zlib.crc32(text.replace("\r", "").replace("\n", "").encode("utf-8"))
    return unsigned - (1 << 32) if unsigned >= (1 << 31) else unsigned


def file_checksum(path: Path) -> int:
    """:func:`checksum` of the file at ``path``."""
    return checksum(path.read_bytes())


@dataclass(frozen=True)
class MigrationName:
    """A migration file name as Flyway reads it.

    ``version`` is normalised for comparison (trailing ``.0`` parts dropped, as Flyway's
    ``MigrationVersion`` does), so ``V1``, ``V001`` and ``V1.0`` compare equal and
    ``V1.1 > V1``; ``version_text`` is the version exactly as written in the file name.
    Repeatable migrations have neither.
    """

    filename: str
    kind: MigrationKind
    version: tuple[int, ...] | None
    version_text: str | None
    description: str

    @property
    def is_versioned(self) -> bool:
        return self.kind == VERSIONED_PREFIX

    @property
    def display_version(self) -> str | None:
        """The version as Flyway shows and records it (``_`` becomes ``.``)."""
        return None if self.version_text is None else self.version_text.replace("_", ".")


def _version_parts(version_text: str) -> tuple[int, ...]:
    parts = [int(part) for part in re.split(r"[._]", version_text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def parse_migration_name(filename: str) -> MigrationName | None:
    """``V<version>__<description>.sql`` or ``R__<description>.sql``; None for anything else.

    None also covers names Flyway ignores or rejects: other suffixes (``.sql.conf``),
    callbacks, undo files (``U``, a paid feature), a repeatable with a version, a version
    that is not dot- or underscore-separated digits.  As in Flyway the name splits at the
    first ``__`` and every ``_`` of the description shows as a space.
    """
    name = Path(filename).name
    # Flyway 13 takes the suffix in any case (V2__x.SQL) but the prefix only as written.
    if not name.lower().endswith(SQL_SUFFIX):
        return None
    stem = name[: -len(SQL_SUFFIX)]
    if stem.startswith(VERSIONED_PREFIX):
        kind: MigrationKind = "V"
    elif stem.startswith(REPEATABLE_PREFIX):
        kind = "R"
    else:
        return None
    body = stem[1:]
    version_text, found, description = body.partition(SEPARATOR)
    if not found:
        # Flyway reads a missing separator as a version with an empty description.
        version_text, description = body, ""
    description = description.replace("_", " ")
    if kind == "R":
        if version_text:
            return None
        return MigrationName(name, kind, None, None, description)
    if not _VERSION_TEXT.fullmatch(version_text):
        return None
    return MigrationName(name, kind, _version_parts(version_text), version_text, description)


def next_version(existing: Iterable[MigrationName], width: int = 3) -> str:
    """The version for a new migration: one more than the highest major version, zero-padded.

    ``'009'`` after ``V008__...``; ``'001'`` when there is no versioned migration yet.
    """
    majors = [name.version[0] for name in existing if name.version is not None]
    return str(max(majors, default=0) + 1).zfill(width)


def find_version_collisions(names: Iterable[MigrationName]) -> list[tuple[str, str]]:
    """Pairs of file names whose versions compare equal (``V1`` and ``V001``): Flyway refuses them."""
    first_by_version: dict[tuple[int, ...], str] = {}
    collisions: list[tuple[str, str]] = []
    for name in sorted(names, key=lambda n: n.filename):
        if name.version is None:
            continue
        earlier = first_by_version.setdefault(name.version, name.filename)
        if earlier != name.filename:
            collisions.append((earlier, name.filename))
    return collisions


@dataclass(frozen=True)
class MigrationFile:
    """A migration file on disk with what Flyway would record for it."""

    path: Path
    name: MigrationName
    checksum: int
    execute_in_transaction: bool


def read_script_config(sql_path: Path) -> dict[str, str]:
    """The ``<file>.sql.conf`` beside a migration as key/value pairs (empty if there is none).

    These per-script settings (``executeInTransaction=false``) are how the open-source
    edition runs a statement such as ``CREATE INDEX CONCURRENTLY`` outside a transaction.
    """
    conf_path = sql_path.with_name(sql_path.name + CONF_SUFFIX)
    if not conf_path.is_file():
        return {}
    settings: dict[str, str] = {}
    for raw_line in read_utf8(conf_path).splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings


def scan_migrations(directory: Path) -> list[MigrationFile]:
    """Every Flyway migration file directly in ``directory``, in file-name order."""
    found: list[MigrationFile] = []
    for path in sorted(directory.iterdir()):
        name = parse_migration_name(path.name)
        if name is None or not path.is_file():
            continue
        in_transaction = read_script_config(path).get("executeInTransaction", "true")
        found.append(
            MigrationFile(
                path=path,
                name=name,
                checksum=file_checksum(path),
                execute_in_transaction=in_transaction.lower() != "false",
            )
        )
    return found


@dataclass(frozen=True)
class AppliedMigration:
    """One row of Flyway's schema history table."""

    installed_rank: int
    version: str | None
    description: str
    type: str
    script: str
    checksum: int | None
    success: bool


def read_schema_history(
    conn: psycopg.Connection[Any],
    schema: str | None = None,
    table: str = DEFAULT_HISTORY_TABLE,
) -> list[AppliedMigration]:
    """The rows of Flyway's history table in install order; [] when the table does not exist.

    Without ``schema`` the table is looked up on the connection's search path (Flyway puts
    it in the first schema it manages, the default schema unless told otherwise).
    """
    relation = sql.Identifier(schema, table) if schema is not None else sql.Identifier(table)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass(%s)::oid IS NOT NULL",
            (relation.as_string(conn),),
        )
        exists = cur.fetchone()
        if exists is None or not exists[0]:
            return []
        cur.execute(
            sql.SQL(
                "SELECT installed_rank, version, description, type, script, checksum, success"
                " FROM {} ORDER BY installed_rank"
            ).format(relation)
        )
        return [
            AppliedMigration(
                installed_rank=row[0],
                version=row[1],
                description=row[2],
                type=row[3],
                script=row[4],
                checksum=row[5],
                success=row[6],
            )
            for row in cur.fetchall()
        ]


def jdbc_url(libpq_url: str) -> tuple[str, str | None, str | None]:
    """``(jdbc_url, user, password)`` for a libpq URL or conninfo reaching PostgreSQL over TCP.

    Flyway connects through JDBC, which has no Unix sockets: a socket-only target raises
    ``ValueError``.
    """
    params = psycopg.conninfo.conninfo_to_dict(libpq_url)
    host = str(params.get("host") or params.get("hostaddr") or "")
    if not host or host.startswith("/"):
        raise ValueError(
            f"JDBC (Flyway) cannot connect through a Unix socket ({host or 'the default'}):"
            " give a TCP host such as 127.0.0.1"
        )
    if "," in host:
        raise ValueError(f"one host is needed for a JDBC URL, not {host!r}")
    if ":" in host:
        host = f"[{host}]"
    port = str(params.get("port") or "5432")
    dbname = str(params.get("dbname") or params.get("user") or "postgres")
    user = params.get("user")
    password = params.get("password")
    return (
        f"jdbc:postgresql://{host}:{port}/{dbname}",
        None if user is None else str(user),
        None if password is None else str(password),
    )
