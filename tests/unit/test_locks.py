"""Lock levels, rewrites and scans of statements, table by table (PostgreSQL's documentation)."""

from __future__ import annotations

import pytest

from schemac.locks import (
    Lock,
    locked_relation,
    statement_lock,
    subcommand_rewrites,
    subcommand_scans,
    type_change_rewrites,
)
from schemac.sql.classify import classify

A = Lock.ACCESS_EXCLUSIVE
SUE = Lock.SHARE_UPDATE_EXCLUSIVE
SRE = Lock.SHARE_ROW_EXCLUSIVE


@pytest.mark.parametrize(
    ("statement", "lock", "relation"),
    [
        ("CREATE INDEX i ON s.t (c)", Lock.SHARE, "s.t"),
        ("CREATE UNIQUE INDEX i ON s.t (c)", Lock.SHARE, "s.t"),
        ("CREATE INDEX CONCURRENTLY i ON s.t (c)", SUE, "s.t"),
        ("DROP INDEX s.i", A, "s.i"),
        ("DROP INDEX CONCURRENTLY s.i", SUE, "s.i"),
        ("ALTER TABLE s.t ADD COLUMN c integer", A, "s.t"),
        ("ALTER TABLE s.t DROP COLUMN c", A, "s.t"),
        ("ALTER TABLE s.t ALTER COLUMN c TYPE bigint", A, "s.t"),
        ("ALTER TABLE s.t ALTER COLUMN c SET NOT NULL", A, "s.t"),
        ("ALTER TABLE s.t ALTER COLUMN c SET DEFAULT 1", A, "s.t"),
        ("ALTER TABLE s.t ALTER COLUMN c SET STATISTICS 500", SUE, "s.t"),
        ("ALTER TABLE s.t ALTER COLUMN c SET (n_distinct = 10)", SUE, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT k CHECK (c > 0)", A, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT k CHECK (c > 0) NOT VALID", A, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES s.u (id)", SRE, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES s.u NOT VALID", SRE, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT u UNIQUE (c)", A, "s.t"),
        ("ALTER TABLE s.t ADD CONSTRAINT u UNIQUE USING INDEX i", A, "s.t"),
        ("ALTER TABLE s.t VALIDATE CONSTRAINT k", SUE, "s.t"),
        ("ALTER TABLE s.t DROP CONSTRAINT k", A, "s.t"),
        ("ALTER TABLE s.t ENABLE TRIGGER x", SRE, "s.t"),
        ("ALTER TABLE s.t DISABLE TRIGGER ALL", SRE, "s.t"),
        ("ALTER TABLE s.t ENABLE ROW LEVEL SECURITY", A, "s.t"),
        ("ALTER TABLE s.t NO FORCE ROW LEVEL SECURITY", A, "s.t"),
        ("ALTER TABLE s.t ATTACH PARTITION s.p FOR VALUES IN (1)", SUE, "s.t"),
        ("ALTER TABLE s.t CLUSTER ON i", SUE, "s.t"),
        ("ALTER TABLE s.t SET (fillfactor = 70)", A, "s.t"),  # stronger lock assumed
        # several sub-commands: the strongest
        ("ALTER TABLE s.t VALIDATE CONSTRAINT k, ADD COLUMN c integer", A, "s.t"),
        ("ALTER TABLE s.t ENABLE TRIGGER x, VALIDATE CONSTRAINT k", SRE, "s.t"),
        ("ALTER TABLE s.t OWNER TO r", A, "s.t"),
        ("CREATE TRIGGER x BEFORE UPDATE ON s.t FOR EACH ROW EXECUTE FUNCTION s.f()", SRE, "s.t"),
        ("DROP TRIGGER x ON s.t", A, "s.t"),
        ("CREATE POLICY p ON s.t USING (true)", A, "s.t"),
        ("ALTER POLICY p ON s.t USING (false)", A, "s.t"),
        ("DROP POLICY p ON s.t", A, "s.t"),
        ("DROP TABLE s.t", A, "s.t"),
        ("DROP VIEW s.v", A, "s.v"),
        ("CREATE OR REPLACE VIEW s.v AS SELECT 1", A, "s.v"),
        ("REFRESH MATERIALIZED VIEW s.m", A, "s.m"),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY s.m", Lock.EXCLUSIVE, "s.m"),
        ("ALTER TABLE s.t RENAME TO u", A, "s.t"),
        ("ALTER TABLE s.t RENAME COLUMN a TO b", A, "s.t"),
        ("ALTER INDEX s.i RENAME TO j", SUE, "s.i"),
        ("COMMENT ON TABLE s.t IS 'x'", SUE, "s.t"),
        ("COMMENT ON COLUMN s.t.c IS 'x'", SUE, "s.t"),
        ("TRUNCATE s.t", A, None),  # classify reads no target of TRUNCATE
        ("GRANT SELECT ON s.t TO r", Lock.NONE, None),
        ("REVOKE SELECT ON s.t FROM r", Lock.NONE, None),
        ("CREATE TABLE s.t (c integer)", Lock.NONE, None),
        ("CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", Lock.NONE, None),
        ("ALTER TYPE s.e ADD VALUE 'x'", Lock.NONE, None),
        ("COMMENT ON FUNCTION s.f() IS 'x'", Lock.NONE, None),
        ("CREATE SCHEMA s", Lock.NONE, None),
    ],
)
def test_statement_lock(statement: str, lock: Lock, relation: str | None) -> None:
    info = classify(statement)
    assert statement_lock(info) is lock
    assert locked_relation(info) == relation


@pytest.mark.parametrize(
    ("lock", "blocks_writes", "blocks_reads"),
    [
        (Lock.NONE, False, False),
        (Lock.SHARE_UPDATE_EXCLUSIVE, False, False),
        (Lock.SHARE, True, False),
        (Lock.SHARE_ROW_EXCLUSIVE, True, False),
        (Lock.EXCLUSIVE, True, False),
        (Lock.ACCESS_EXCLUSIVE, True, True),
    ],
)
def test_what_a_lock_blocks(lock: Lock, blocks_writes: bool, blocks_reads: bool) -> None:
    assert (lock.blocks_writes, lock.blocks_reads) == (blocks_writes, blocks_reads)


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        ("integer", "integer", False),
        ("integer", "bigint", True),  # widening, but every row is rewritten
        ("smallint", "integer", True),
        ("character varying(20)", "character varying(40)", False),
        ("character varying(20)", "character varying(10)", True),
        ("character varying(20)", "character varying", False),
        ("character varying", "character varying(20)", True),
        ("character varying(20)", "text", False),
        ("text", "character varying", False),
        ("text", "character varying(20)", True),
        ("numeric(8,2)", "numeric(10,2)", False),
        ("numeric(8,2)", "numeric(6,2)", True),
        ("numeric(8,2)", "numeric(9,3)", True),  # a new scale rewrites every value
        ("numeric(8,2)", "numeric", False),
        ("numeric", "numeric(8,2)", True),
        ("text", "integer", True),
        ("s.old_enum", "s.new_enum", True),
        ("character varying(20)[]", "text[]", True),  # assumed: arrays are not looked into
    ],
)
def test_type_change_rewrites(old: str, new: str, rewrites: bool) -> None:
    assert type_change_rewrites(old, new) is rewrites


@pytest.mark.parametrize(
    ("statement", "rewrites", "scans"),
    [
        ("ALTER TABLE s.t ADD COLUMN c integer", False, False),
        ("ALTER TABLE s.t ADD COLUMN c integer DEFAULT 0 NOT NULL", False, False),
        ("ALTER TABLE s.t ADD COLUMN c timestamptz DEFAULT now()", False, False),
        ("ALTER TABLE s.t ADD COLUMN c uuid DEFAULT gen_random_uuid()", True, False),
        ("ALTER TABLE s.t ADD COLUMN c integer DEFAULT s.f()", True, False),
        ("ALTER TABLE s.t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY", True, False),
        ("ALTER TABLE s.t ADD COLUMN c integer GENERATED ALWAYS AS (a + 1) STORED", True, False),
        ("ALTER TABLE s.t ADD COLUMN c integer CHECK (c > 0)", False, True),
        ("ALTER TABLE s.t ADD COLUMN c integer REFERENCES s.u", False, True),
        ("ALTER TABLE s.t ADD CONSTRAINT k CHECK (c > 0)", False, True),
        ("ALTER TABLE s.t ADD CONSTRAINT k CHECK (c > 0) NOT VALID", False, False),
        ("ALTER TABLE s.t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES s.u", False, True),
        ("ALTER TABLE s.t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES s.u NOT VALID", False, False),
        ("ALTER TABLE s.t ADD CONSTRAINT u UNIQUE (c)", False, True),
        ("ALTER TABLE s.t ADD CONSTRAINT u UNIQUE USING INDEX i", False, False),
        ("ALTER TABLE s.t VALIDATE CONSTRAINT k", False, True),
        ("ALTER TABLE s.t ALTER COLUMN c SET NOT NULL", False, True),
        ("ALTER TABLE s.t ALTER COLUMN c DROP NOT NULL", False, False),
        ("ALTER TABLE s.t SET LOGGED", True, False),
        ("ALTER TABLE s.t DROP COLUMN c", False, False),
    ],
)
def test_subcommand_rewrites_and_scans(statement: str, rewrites: bool, scans: bool) -> None:
    (command,) = classify(statement).subcommands
    assert subcommand_rewrites(command, (None, None) if rewrites else ("a", "a")) is rewrites
    assert subcommand_scans(command) is scans
