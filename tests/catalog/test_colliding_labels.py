"""Objects whose dotted names are the same text are each read and compared on their own.

"a.b".c and a."b.c" are both `a.b.c` when their parts are joined by dots; trigger x on a."b.c"
and trigger "c.x" on a.b are both `x on a.b.c`-like. The catalog model names them by
`QName.label` / `member_label`, which quote such parts, so the two never share an entry (one
would hide the other from every comparison and from import). The database is the importer
corpus' tests/importer/schemas/collisions.sql.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemac.catalog import CatalogModel, compare_models, read_catalog
from schemac.shadow import PostgresServer, ensure_template, scratch_database

COLLISIONS = Path(__file__).resolve().parents[1] / "importer" / "schemas" / "collisions.sql"

# Each pair: two objects of one kind whose dotted labels were the same text.
PAIRS = {
    "table": ('a."b.c"', '"a.b".c'),
    "view": ('a."b.v"', '"a.b".v'),
    "materialized view": ('a."b.m"', '"a.b".m'),
    "function": ('a."b.f"()', '"a.b".f()'),
    "aggregate": ('a."b.sum"(integer)', '"a.b".sum(integer)'),
    "sequence": ('a."b.s"', '"a.b".s'),
    "enum": ('a."b.e"', '"a.b".e'),
    "domain": ('a."b.d"', '"a.b".d'),
    "composite type": ('a."b.ct"', '"a.b".ct'),
    "range type": ('a."b.span"', '"a.b".span'),
    "index": ('a."b.by_total"', '"a.b".by_total'),
    "trigger": ('x on a."b.c"', 'x on "a.b".c', '"c.x" on a.b'),
    "policy": ('p on a."b.c"', 'p on "a.b".c', '"p on a" on b.t', "p on a on b.t"),
    "foreign key": ('k on a."b.c"', 'k on "a.b".c'),
    "partition": ('a."b.p2026"', '"a.b".p2026'),
}


@pytest.fixture(scope="module")
def collisions_template(pg_server: PostgresServer) -> str:
    text = COLLISIONS.read_text(encoding="utf-8")

    def build(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(text)

    return ensure_template(
        pg_server, "collisions_" + hashlib.sha256(text.encode()).hexdigest()[:24], build
    )


@pytest.fixture
def two_copies(pg_server: PostgresServer, collisions_template: str) -> Iterator[tuple[str, str]]:
    with (
        scratch_database(pg_server, template=collisions_template) as first,
        scratch_database(pg_server, template=collisions_template) as second,
    ):
        yield first, second


def _read(url: str) -> CatalogModel:
    with psycopg.connect(url, autocommit=False) as conn:
        conn.read_only = True
        model = read_catalog(conn)
        conn.rollback()
    return model


def test_every_object_of_a_colliding_pair_is_read(
    pg_server: PostgresServer, collisions_template: str
) -> None:
    with scratch_database(pg_server, template=collisions_template) as url:
        model = _read(url)
    for kind, names in PAIRS.items():
        found = set(model.of(kind))
        assert set(names) <= found, (kind, sorted(found))
    # plain names are labelled as they always were
    assert "b.t" in model.of("table") and "a.b" in model.of("table")
    assert "a.touch()" in model.of("function")


# One hand-made change to one object of each pair: the comparison names that object alone.
CHANGES = [
    ('ALTER TABLE "a.b".c ADD COLUMN note text', "table", '"a.b".c'),
    ('ALTER TABLE a."b.c" ALTER COLUMN total SET DEFAULT 3', "table", 'a."b.c"'),
    (
        'CREATE OR REPLACE VIEW "a.b".v AS SELECT id, total + 1 AS total FROM "a.b".c',
        "view",
        '"a.b".v',
    ),
    ('ALTER FUNCTION a."b.f"() STABLE', "function", 'a."b.f"()'),
    ('ALTER SEQUENCE "a.b".s INCREMENT BY 5', "sequence", '"a.b".s'),
    ("ALTER TYPE a.\"b.e\" ADD VALUE 'three'", "enum", 'a."b.e"'),
    ('ALTER DOMAIN "a.b".d SET DEFAULT 7', "domain", '"a.b".d'),
    ("COMMENT ON INDEX \"a.b\".by_total IS 'changed'", "index", '"a.b".by_total'),
    ('ALTER TABLE "a.b".c DISABLE TRIGGER x', "trigger", 'x on "a.b".c'),
    ('ALTER TABLE a.b DISABLE TRIGGER "c.x"', "trigger", '"c.x" on a.b'),
    ('ALTER POLICY p ON "a.b".c USING (total > 5)', "policy", 'p on "a.b".c'),
    ('ALTER POLICY p ON "a on b".t USING (id > 5)', "policy", "p on a on b.t"),
    ("COMMENT ON CONSTRAINT k ON a.\"b.c\" IS 'changed'", "foreign key", 'k on a."b.c"'),
    ("COMMENT ON TYPE \"a.b\".ct IS 'changed'", "composite type", '"a.b".ct'),
    ("COMMENT ON TABLE a.\"b.p2026\" IS 'changed'", "partition", 'a."b.p2026"'),
]


@pytest.mark.parametrize(("change", "kind", "name"), CHANGES, ids=[c[2] for c in CHANGES])
def test_a_change_to_one_of_a_colliding_pair_names_that_object(
    two_copies: tuple[str, str], change: str, kind: str, name: str
) -> None:
    current, desired = two_copies
    with psycopg.connect(current, autocommit=True) as conn:
        conn.execute(change)
    found = compare_models(_read(current), _read(desired))
    assert found, change
    assert {(d.kind, d.name) for d in found} == {(kind, name)}, [d.describe() for d in found]
