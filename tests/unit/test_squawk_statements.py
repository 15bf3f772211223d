"""What squawk's findings are put in context with: each statement of a migration, where it
starts (in characters, though the parser counts bytes) and what it acts on or creates."""

from __future__ import annotations

from schemac.squawk_context import read_statements

MIGRATION = """-- Schéma « élèves » : ünïcode before every statement
CREATE TABLE "école".élève (id int);
COMMENT ON TABLE "école".élève IS 'ça compte';
CREATE INDEX élève_id ON "école".élève (id);
GRANT SELECT ON "école".élève, other TO reader;
GRANT EXECUTE ON FUNCTION app.f(int) TO reader;
CREATE MATERIALIZED VIEW app.mv AS SELECT 1;
CREATE FUNCTION app.g() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
ALTER TABLE app.t ADD COLUMN c int;
"""


def test_each_statement_starts_where_its_text_does() -> None:
    starts = [s.start for s in read_statements(MIGRATION)]
    heads = [MIGRATION[start:].lstrip().split(None, 2)[:2] for start in starts]
    assert heads == [
        ["CREATE", "TABLE"],
        ["COMMENT", "ON"],
        ["CREATE", "INDEX"],
        ["GRANT", "SELECT"],
        ["GRANT", "EXECUTE"],
        ["CREATE", "MATERIALIZED"],
        ["CREATE", "FUNCTION"],
        ["ALTER", "TABLE"],
    ]


def test_targets_and_created_objects() -> None:
    found = [(s.targets, s.creates) for s in read_statements(MIGRATION)]
    assert found == [
        ((), "école.élève"),
        ((), None),
        (("école.élève",), None),
        (("école.élève", "other"), None),
        (("app.f",), None),
        ((), "app.mv"),
        ((), "app.g"),
        (("app.t",), None),
    ]


def test_a_file_that_does_not_parse_has_noread_statements() -> None:
    assert read_statements("CREATE TABLE (") == []
