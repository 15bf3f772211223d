"""An index's operator class is read by schema and name: two operator classes of one name in
different schemas are different classes, and the index element says which one it uses."""

from __future__ import annotations

import psycopg

from schemac.catalog import CatalogModel, compare_models, read_catalog
from schemac.shadow import PostgresServer, scratch_database

# The same class (text compared as btree's default does) under one name in two schemas, plus a
# schema whose name needs quotes; the index uses the schema given.
SETUP = """
CREATE SCHEMA first;
CREATE SCHEMA second;
CREATE SCHEMA "Odd Ops";
CREATE OPERATOR CLASS {schema}.same_ops FOR TYPE text USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 pg_catalog.bttextcmp(text, text);
CREATE TABLE public.words (word text);
CREATE INDEX words_word_idx ON public.words (word {schema}.same_ops);
CREATE INDEX words_pattern_idx ON public.words (word text_pattern_ops);
"""


def _model(url: str, schema: str) -> CatalogModel:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP.format(schema=schema))
        conn.read_only = True
        return read_catalog(conn)


def _opclasses(model: CatalogModel, index: str) -> list[str | None]:
    return [e.opclass for e in model.of("index")[index].elements]


def test_an_opclass_is_compared_by_schema_and_name(pg_server: PostgresServer) -> None:
    with scratch_database(pg_server) as one, scratch_database(pg_server) as two:
        first = _model(one, "first")
        second = _model(two, "second")
    # pg_catalog's classes are always visible: read bare, as a person writes them.
    assert _opclasses(first, "public.words_pattern_idx") == ["text_pattern_ops"]
    assert _opclasses(first, "public.words_word_idx") == ["first.same_ops"]
    found = compare_models(first, second)
    opclass = [d for d in found if d.kind == "index" and d.attribute.endswith("opclass")]
    assert [(d.name, d.current, d.desired) for d in opclass] == [
        ("public.words_word_idx", "first.same_ops", "second.same_ops")
    ], [d.describe() for d in found]


def test_a_schema_name_that_needs_quotes_is_read_quoted(pg_server: PostgresServer) -> None:
    with scratch_database(pg_server) as url:
        model = _model(url, '"Odd Ops"')
    assert _opclasses(model, "public.words_word_idx") == ['"Odd Ops".same_ops']
