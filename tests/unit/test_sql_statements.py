"""CREATE INDEX and ALTER TABLE ... USING INDEX read from the tree: no database, milliseconds."""

from __future__ import annotations

import pytest

from schemac.sql.classify import classify
from schemac.sql.statements import (
    concurrently_as_written,
    index_info,
    rename_index,
    unnamed_index,
    without_only,
)
from schemac.table_plan import drops_inherited, key_using_index

INDEX_INFO = [
    # statement, (schema, name, table, unique, concurrent, only)
    ('create index "i" on "a"."t" (c)', ("a", "i", "t", False, False, False)),
    (
        'CREATE UNIQUE INDEX "I x" ON ONLY "a"."t" USING btree (c);',
        ("a", "I x", "t", True, False, True),
    ),
    ("create index concurrently if not exists i on t (c)", (None, "i", "t", False, True, False)),
    ('create index "only" on a.t (c)', ("a", "only", "t", False, False, False)),
    # a name with a quote and a dot in it is one name
    ('create index "a.""b" on "s.x"."t" (c)', ("s.x", 'a."b', "t", False, False, False)),
]


@pytest.mark.parametrize(("text", "expected"), INDEX_INFO)
def test_index_info_reads_names_as_postgres_does(text: str, expected: tuple[object, ...]) -> None:
    info = index_info(text)
    assert info is not None
    assert (info.schema, info.name, info.table, info.unique, info.concurrent, info.only) == expected


@pytest.mark.parametrize(
    "text",
    ["create table t (c int)", "alter table t add column c int", "drop index a.i", "select 1"],
)
def test_index_info_is_none_for_other_statements(text: str) -> None:
    assert index_info(text) is None


WITHOUT_ONLY = [
    # ONLY cut out with its blank; the rest byte for byte as written
    (
        'create unique index "i" on only "a"."t" using btree (c);',
        'create unique index "i" on "a"."t" using btree (c);',
    ),
    ("CREATE INDEX i ON ONLY a.t\n  (c) WHERE c > 0", "CREATE INDEX i ON a.t\n  (c) WHERE c > 0"),
    # a quoted name "only" is a name, not the keyword
    ('create index "only" on only a."only" (c)', 'create index "only" on a."only" (c)'),
    # nothing to cut: unchanged
    ('create index "i" on "a"."t" (c)', 'create index "i" on "a"."t" (c)'),
    ("alter table only a.t add column c int", "alter table only a.t add column c int"),
]


@pytest.mark.parametrize(("text", "expected"), WITHOUT_ONLY)
def test_without_only(text: str, expected: str) -> None:
    result = without_only(text)
    assert result == expected
    info = index_info(result)
    assert info is None or not info.only


SAME_DEFINITION = [
    # pg_get_indexdef's output for two indexes that differ by name only
    (
        "CREATE INDEX t_a_idx ON app.t USING btree (a)",
        'CREATE INDEX "t_b_idx" ON app.t USING btree (a)',
        True,
    ),
    (
        "CREATE UNIQUE INDEX x ON app.t USING btree (a) WHERE (a > 0)",
        "CREATE UNIQUE INDEX y ON app.t USING btree (a) WHERE (a > 0)",
        True,
    ),
    ("CREATE INDEX x ON app.t USING btree (a)", "CREATE UNIQUE INDEX x ON app.t (a)", False),
    ("CREATE INDEX x ON app.t USING btree (a)", "CREATE INDEX x ON app.t USING hash (a)", False),
    (
        "CREATE INDEX x ON app.t (a) WHERE (a > 0)",
        "CREATE INDEX x ON app.t (a) WHERE (a > 1)",
        False,
    ),
    ("CREATE INDEX x ON app.t (a, b)", "CREATE INDEX x ON app.t (b, a)", False),
]


@pytest.mark.parametrize(("left", "right", "same"), SAME_DEFINITION)
def test_unnamed_index_compares_definitions_only(left: str, right: str, same: bool) -> None:
    assert (unnamed_index(left) == unnamed_index(right)) is same


def test_rename_index_keeps_the_definition() -> None:
    renamed = rename_index("CREATE INDEX old ON app.t USING gin (a) WITH (fastupdate = off)", "new")
    info = index_info(renamed)
    assert info is not None and info.name == "new"
    assert unnamed_index(renamed) == unnamed_index(
        "CREATE INDEX x ON app.t USING gin (a) WITH (fastupdate = off)"
    )


KEY_USING_INDEX = [
    (
        'alter table "a"."t" add constraint "t_pkey" PRIMARY KEY using index "t_pkey";',
        ("a", "t_pkey"),
    ),
    ('alter table "a"."t" add constraint "k" UNIQUE using index "other";', ("a", "k")),
    # a key from its definition, several sub-commands, another statement, no schema: not one
    ('alter table "a"."t" add constraint "k" UNIQUE (c);', None),
    (
        'alter table "a"."t" add constraint "k" UNIQUE using index "k", add column c int;',
        None,
    ),
    ('alter table t add constraint "k" UNIQUE using index "k";', None),
    ('create unique index "k" on "a"."t" (c);', None),
]


@pytest.mark.parametrize(("text", "expected"), KEY_USING_INDEX)
def test_key_using_index(text: str, expected: tuple[str, str] | None) -> None:
    assert key_using_index(classify(text)) == expected
    if expected is not None:
        assert classify(text).subcommands[0].using_index


INHERITED_INDEXES = {("m", "t_p0_pkey"), ("m", "t_p0_v_idx")}
INHERITED_CONSTRAINTS = {("m", "t_p0_pkey")}
DROPS_INHERITED = [
    # what migra writes when a partition goes: PostgreSQL drops these with it
    ('alter table "m"."t_p0" drop constraint "t_p0_pkey";', True),
    ('drop index if exists "m"."t_p0_pkey";', True),
    ('drop index "m"."t_p0_v_idx";', True),
    # not inherited, another schema, other actions, the partition itself: kept
    ('alter table "m"."t" drop constraint "t_pkey";', False),
    ('drop index "other"."t_p0_v_idx";', False),
    ('alter table "m"."t_p0" drop constraint "t_p0_pkey", add column c int;', False),
    ('alter table "m"."t_p0" add column c int;', False),
    ('drop table "m"."t_p0";', False),
    ("drop index t_p0_v_idx;", False),
]


@pytest.mark.parametrize(("text", "expected"), DROPS_INHERITED)
def test_drops_inherited(text: str, expected: bool) -> None:
    assert drops_inherited(classify(text), INHERITED_INDEXES, INHERITED_CONSTRAINTS) is expected


CONCURRENTLY_AS_WRITTEN = [
    (
        'create unique index "i" on "a"."t" using btree (c);',
        'create unique index CONCURRENTLY "i" on "a"."t" using btree (c);',
    ),
    (
        "CREATE INDEX i ON a.t (c)\n  WHERE c > 0",
        "CREATE INDEX CONCURRENTLY i ON a.t (c)\n  WHERE c > 0",
    ),
    ('drop index "a"."i";', 'drop index CONCURRENTLY "a"."i";'),
    ('create index "index" on a.t (c)', 'create index CONCURRENTLY "index" on a.t (c)'),
    ("create index concurrently i on a.t (c)", "create index concurrently i on a.t (c)"),
]


@pytest.mark.parametrize(("text", "expected"), CONCURRENTLY_AS_WRITTEN)
def test_concurrently_as_written(text: str, expected: str) -> None:
    result = concurrently_as_written(text)
    assert result == expected
    assert classify(result).kind in ("create index", "drop index")
    info = index_info(result)
    assert info is None or info.concurrent


@pytest.mark.parametrize("text", ["create table t (c int)", "drop table a.t"])
def test_concurrently_as_written_refuses_other_statements(text: str) -> None:
    with pytest.raises(ValueError):
        concurrently_as_written(text)
