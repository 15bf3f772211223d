"""Flyway's checksum and file-name rules as schemac implements them (no Java needed).

The expected checksums below were recorded by the real Flyway 13.12.0 in
flyway_schema_history (tests/flyway/ re-checks them against Flyway on every run).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import psycopg
import pytest

from schemac.flyway import (
    MigrationName,
    checksum,
    find_version_collisions,
    jdbc_url,
    next_version,
    parse_migration_name,
    read_schema_history,
    read_script_config,
    scan_migrations,
)
from schemac.shadow import PostgresServer

BOM = b"\xef\xbb\xbf"


def name(filename: str) -> MigrationName:
    parsed = parse_migration_name(filename)
    assert parsed is not None, filename
    return parsed


# --- checksum -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "recorded_by_flyway"),
    [
        (b"CREATE TABLE t (id int PRIMARY KEY, name text);\n", 1780212902),
        (b"CREATE OR REPLACE VIEW v AS SELECT id FROM t;\r\n", -52122244),
        (
            b"-- classic Mac OS line ends\r\rALTER TABLE things ADD COLUMN flag bool;   \r"
            b"\tSELECT 1;\r",
            -280001398,
        ),
        (
            BOM
            + "COMMENT ON TABLE things IS 'Caf\u00e9 \u2014 \u00fcn\u00efcode \U0001f600';\n"
            "COMMENT ON COLUMN things.name IS '\u540d\u524d'".encode(),
            -895487629,
        ),
    ],
)
def test_checksum_matches_the_value_flyway_recorded(
    content: bytes, recorded_by_flyway: int
) -> None:
    assert checksum(content) == recorded_by_flyway


def test_line_ending_style_does_not_change_the_checksum() -> None:
    lf = b"CREATE TABLE t (\n    id int\n);\n"
    assert (
        checksum(lf) == checksum(lf.replace(b"\n", b"\r\n")) == checksum(lf.replace(b"\n", b"\r"))
    )


def test_a_final_newline_and_blank_lines_do_not_change_the_checksum() -> None:
    # Lines are hashed without terminators, so an empty line adds nothing to the CRC.
    assert checksum(b"SELECT 1;\nSELECT 2;") == checksum(b"SELECT 1;\n\n\nSELECT 2;\n")


def test_a_leading_bom_is_ignored_but_not_a_bom_further_in() -> None:
    plain = b"SELECT 1;\nSELECT 2;\n"
    assert checksum(BOM + plain) == checksum(plain)
    assert checksum(b"SELECT 1;\n" + BOM + b"SELECT 2;\n") != checksum(plain)


@pytest.mark.parametrize(
    "changed",
    [
        b"SELECT  1;\n",  # inner whitespace
        b"SELECT 1; \n",  # trailing whitespace
        b"\tSELECT 1;\n",  # indentation
        b"SELECT 1; -- why\n",  # a comment
        b"select 1;\n",  # case
    ],
)
def test_whitespace_comments_and_case_change_the_checksum(changed: bytes) -> None:
    assert checksum(changed) != checksum(b"SELECT 1;\n")


def test_only_cr_and_lf_end_lines() -> None:
    # readLine() knows \n, \r and \r\n; \v, \f and U+2028 are ordinary characters.
    for separator in ("\v", "\f", "\u2028", "\x85"):
        text = f"SELECT 1;{separator}SELECT 2;"
        assert checksum(text.encode()) != checksum(b"SELECT 1;SELECT 2;")
        assert checksum(text.encode()) == _signed(zlib.crc32(text.encode()))


def test_checksum_is_a_signed_32_bit_int_and_empty_input_is_zero() -> None:
    assert checksum(b"") == 0 == checksum(b"\n\r\n") == checksum(BOM)
    values = [checksum(f"SELECT {i};".encode()) for i in range(200)]
    assert all(-(2**31) <= value < 2**31 for value in values)
    assert any(value < 0 for value in values)


def test_invalid_utf8_is_refused_as_flyway_refuses_it() -> None:
    with pytest.raises(UnicodeDecodeError):
        checksum("-- caf\u00e9\n".encode("latin-1"))


def _signed(value: int) -> int:
    return value - 2**32 if value >= 2**31 else value


# --- file names -----------------------------------------------------------------------


def test_versioned_name_parts() -> None:
    parsed = name("V001__create_user_management_schema.sql")
    assert parsed.kind == "V"
    assert parsed.is_versioned
    assert parsed.version == (1,)
    assert parsed.version_text == "001"
    assert parsed.description == "create user management schema"
    assert parsed.filename == "V001__create_user_management_schema.sql"


def test_repeatable_name_parts() -> None:
    parsed = name("R__refresh_views.sql")
    assert (parsed.kind, parsed.version, parsed.version_text) == ("R", None, None)
    assert parsed.description == "refresh views"
    assert not parsed.is_versioned


def test_a_path_is_reduced_to_its_file_name() -> None:
    assert name("generated/V2__x.sql").filename == "V2__x.sql"


def test_underscores_in_the_version_read_as_dots() -> None:
    parsed = name("V1_2__x.sql")
    assert parsed.version == name("V1.2__x.sql").version == (1, 2)
    assert parsed.display_version == "1.2"


def test_the_name_splits_at_the_first_separator() -> None:
    assert name("V3__a__b.sql").description == "a  b"


def test_the_suffix_is_case_insensitive() -> None:
    # Checked with Flyway 13.12.0: it lists V2__upper.SQL and ignores v1__lower.sql.
    assert name("V2__upper.SQL").description == "upper"


def test_a_missing_separator_means_an_empty_description() -> None:
    parsed = name("V7.sql")
    assert (parsed.version, parsed.description) == ((7,), "")


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("V1__a.sql", "V1.1__a.sql"),
        ("V9__a.sql", "V10__a.sql"),  # numeric, not lexical
        ("V1.9__a.sql", "V1.10__a.sql"),
        ("V008__a.sql", "V9__a.sql"),
        ("V1.0.1__a.sql", "V1.1__a.sql"),
    ],
)
def test_versions_compare_numerically_part_by_part(lower: str, higher: str) -> None:
    low, high = name(lower).version, name(higher).version
    assert low is not None and high is not None
    assert low < high


@pytest.mark.parametrize("same", ["V001__a.sql", "V1.0__a.sql", "V01_0_0__a.sql"])
def test_equal_versions(same: str) -> None:
    assert name(same).version == name("V1__a.sql").version


@pytest.mark.parametrize(
    "filename",
    [
        "U1__undo.sql",  # undo: a paid feature
        "R1__x.sql",  # a repeatable has no version
        "V__x.sql",  # a versioned migration needs one
        "Vx__y.sql",
        "V1.__x.sql",
        "V1..2__x.sql",
        "V1-2__x.sql",
        "V1__x.sql.conf",
        "v1__x.sql",  # the prefix is case-sensitive
        "afterMigrate.sql",
        "README.md",
    ],
)
def test_names_flyway_does_not_take_as_migrations(filename: str) -> None:
    assert parse_migration_name(filename) is None


def test_next_version() -> None:
    existing = [name("V001__a.sql"), name("V008__b.sql"), name("R__views.sql")]
    assert next_version(existing) == "009"
    assert next_version([name("V009__a.sql")]) == "010"
    assert next_version([name("V2.5__a.sql")], width=4) == "0003"
    assert next_version([]) == "001"
    assert next_version([name("R__only.sql")]) == "001"


def test_collisions_are_versions_that_compare_equal() -> None:
    names = [
        name("V1__a.sql"),
        name("V001__b.sql"),
        name("V1.0__c.sql"),
        name("V2__d.sql"),
        name("V2.1__e.sql"),
        name("R__f.sql"),
        name("R__g.sql"),
    ]
    assert find_version_collisions(names) == [
        ("V001__b.sql", "V1.0__c.sql"),
        ("V001__b.sql", "V1__a.sql"),
    ]
    assert find_version_collisions([name("V1__a.sql"), name("V2__a.sql")]) == []


# --- files on disk --------------------------------------------------------------------


def test_scan_migrations_reads_names_checksums_and_conf(tmp_path: Path) -> None:
    (tmp_path / "V1__t.sql").write_bytes(b"CREATE TABLE t (id int);\n")
    (tmp_path / "V2__idx.sql").write_bytes(b"CREATE INDEX CONCURRENTLY i ON t (id);\n")
    (tmp_path / "V2__idx.sql.conf").write_text("# set by schemac\nexecuteInTransaction = false\n")
    (tmp_path / "R__v.sql").write_bytes(b"CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\r\n")
    (tmp_path / "notes.txt").write_text("not a migration")

    found = {m.path.name: m for m in scan_migrations(tmp_path)}

    assert sorted(found) == ["R__v.sql", "V1__t.sql", "V2__idx.sql"]
    assert found["V2__idx.sql"].execute_in_transaction is False
    assert found["V1__t.sql"].execute_in_transaction is True
    assert read_script_config(tmp_path / "V2__idx.sql") == {"executeInTransaction": "false"}
    assert read_script_config(tmp_path / "V1__t.sql") == {}
    for migration in found.values():
        assert migration.checksum == checksum(migration.path.read_bytes())


# --- connections ----------------------------------------------------------------------


def test_jdbc_url_from_a_libpq_url() -> None:
    assert jdbc_url("postgresql://postgres@127.0.0.1:5433/app") == (
        "jdbc:postgresql://127.0.0.1:5433/app",
        "postgres",
        None,
    )
    assert jdbc_url("host=db.local user=u password=p dbname=x") == (
        "jdbc:postgresql://db.local:5432/x",
        "u",
        "p",
    )
    assert jdbc_url("postgresql://u@[::1]:6000/x")[0] == "jdbc:postgresql://[::1]:6000/x"


def test_jdbc_url_refuses_a_unix_socket() -> None:
    with pytest.raises(ValueError, match="Unix socket"):
        jdbc_url("postgresql:///app?host=/var/run/postgresql")


def test_read_schema_history_without_the_table_is_empty(pg_server: PostgresServer) -> None:
    database = pg_server.create_database()
    try:
        with psycopg.connect(pg_server.url(database)) as conn:
            assert read_schema_history(conn) == []
            assert read_schema_history(conn, schema="no_such_schema") == []
    finally:
        pg_server.drop_database(database)
