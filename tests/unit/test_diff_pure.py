"""The pure functions of the diff side, table by table: no database, milliseconds."""

from __future__ import annotations

import pytest

from schemac.destructive import destructive_changes, is_widening
from schemac.diff import slugify
from schemac.errors import UsageError
from schemac.planner import (
    Shape,
    routine_differences,
    routine_statements,
    shape,
)
from schemac.table_plan import (
    GeneratedColumn,
    column_order_warnings,
    drops_only_derived_values,
    generated_statements,
    index_statements,
    partition_statements,
)
from schemac.view_plan import ViewDefinition, plan_views


@pytest.mark.parametrize(
    ("old", "new", "widening"),
    [
        ("integer", "integer", True),
        ("smallint", "integer", True),
        ("integer", "bigint", True),
        ("bigint", "integer", False),
        ("integer", "numeric", True),
        ("real", "double precision", True),
        ("double precision", "real", False),
        ("character varying(20)", "character varying(40)", True),
        ("character varying(20)", "character varying(10)", False),
        ("character varying(20)", "character varying", True),
        ("character varying", "character varying(20)", False),
        ("character varying(20)", "text", True),
        ("text", "character varying(20)", False),
        ("numeric(8,2)", "numeric(10,2)", True),
        ("numeric(8,2)", "numeric(6,2)", False),
        ("numeric(8,2)", "numeric(9,3)", True),
        ("numeric(8,2)", "numeric(8,3)", False),  # one digit fewer before the point
        ("numeric(8,2)", "numeric", True),
        ("numeric", "numeric(8,2)", False),
        ("text", "integer", False),
        ("integer", "numeric(10,2)", False),
        ("integer[]", "bigint[]", False),
        ("app.money", "numeric", False),
    ],
)
def test_is_widening(old: str, new: str, widening: bool) -> None:
    assert is_widening(old, new) is widening


@pytest.mark.parametrize(
    ("description", "slug"),
    [
        ("add course ratings", "add_course_ratings"),
        ("Add Course-Ratings!", "add_course_ratings"),
        ("  spaces  around ", "spaces_around"),
        ("x" * 80, "x" * 60),
        ("ab " * 30, ("ab_" * 20).rstrip("_")),  # cut at 60, the trailing underscore dropped
    ],
)
def test_slugify(description: str, slug: str) -> None:
    assert slugify(description) == slug


def test_slugify_needs_a_letter_or_digit() -> None:
    with pytest.raises(UsageError, match="at least one letter or digit"):
        slugify("!!!")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ('drop view if exists "s"."v";', Shape("drop_view", ("s", "v"))),
        ('drop materialized view if exists "s"."m";', Shape("drop_view", ("s", "m"))),
        ("create or replace view s.v as select 1;", Shape("create_view", ("s", "v"))),
        (
            "create materialized view s.m as select 1 with no data;",
            Shape("create_view", ("s", "m")),
        ),
        ("create index i on s.t (c);", Shape("create_index", ("s", "t"), "i")),
        ('drop index if exists "s"."i";', Shape("drop_index", ("s", "i"))),
        ('drop table "s"."t";', Shape("drop_table", ("s", "t"))),
        (
            'alter table "s"."t" alter column "c" set data type bigint using "c"::bigint;',
            Shape("column_type", ("s", "t"), "c"),
        ),
        (
            'alter table "s"."t" alter column "c" set default (id * 3);',
            Shape("column_default", ("s", "t"), "c"),
        ),
        (
            "create trigger x after insert on s.t for each row execute function f();",
            Shape("create_trigger", ("s", "t"), "x"),
        ),
        ('drop trigger if exists "x" on "s"."t";', Shape("drop_trigger", ("s", "t"), "x")),
        # A comment mentioning a view is not a view statement.
        ("-- drop view s.v\nselect 1;", Shape("other")),
        ("comment on view s.v is 'drop view s.w';", Shape("other")),
        ("not sql at all", Shape("other")),
    ],
)
def test_shape(statement: str, expected: Shape) -> None:
    assert shape(statement) == expected


def test_destructive_statements_are_named() -> None:
    found = destructive_changes(
        [
            'drop table "s"."t";',
            'alter table "s"."t" drop column "c";',
            'alter table "s"."t" alter column "n" set data type integer using "n"::integer;',
            'alter table "s"."t" alter column "w" set data type bigint using "w"::bigint;',
            'alter table "s"."t" add column "x" integer;',
            'drop materialized view "s"."m";',  # derived rows: the planner rebuilds it
            'drop type "s"."mood__old_version_to_be_dropped";',
            'drop schema "old";',
        ],
        {("s", "t", "n"): "bigint", ("s", "t", "w"): "integer"},
        {("s", "t", "n"): "integer", ("s", "t", "w"): "bigint"},
    )
    assert [change.reason for change in found] == [
        "drops table s.t and every row in it",
        "drops column c of s.t and its data",
        "changes the type of s.t.n from bigint to integer, which may lose or reject data",
        "enum s.mood loses or reorders values; rows holding a removed value make the migration fail",
        "drops schema old",
    ]


# -- routines -------------------------------------------------------------------------------------

FUNCTION = "CREATE OR REPLACE FUNCTION s.f(p integer DEFAULT 1)\n RETURNS integer\n LANGUAGE sql\n{}AS $$SELECT p$$\n"


@pytest.mark.parametrize(
    ("current", "desired", "statements"),
    [
        ({}, {}, []),
        ({"s.f(p integer)": ("A", 1)}, {"s.f(p integer)": ("A", 1)}, []),
        (  # a SET clause added: replaced in place
            {"s.f(p integer)": (FUNCTION.format(""), 1)},
            {"s.f(p integer)": (FUNCTION.format(" SET search_path TO pg_catalog\n"), 1)},
            [FUNCTION.format(" SET search_path TO pg_catalog\n").strip() + ";"],
        ),
        (  # a default removed: PostgreSQL refuses that in place, so drop first
            {"s.f(p integer)": ("CREATE OR REPLACE FUNCTION s.f(p integer DEFAULT 1) ...", 1)},
            {"s.f(p integer)": ("CREATE OR REPLACE FUNCTION s.f(p integer) ...", 0)},
            ["DROP FUNCTION s.f(p integer);", "CREATE OR REPLACE FUNCTION s.f(p integer) ...;"],
        ),
        (  # a procedure loses a default
            {"s.p(a integer)": ("CREATE OR REPLACE PROCEDURE s.p(a integer DEFAULT 1) x", 1)},
            {"s.p(a integer)": ("CREATE OR REPLACE PROCEDURE s.p(a integer) x", 0)},
            ["DROP PROCEDURE s.p(a integer);", "CREATE OR REPLACE PROCEDURE s.p(a integer) x;"],
        ),
        ({}, {"s.new()": ("X", 0)}, []),  # new routines are migra's
    ],
)
def test_routine_statements(
    current: dict[str, tuple[str, int]], desired: dict[str, tuple[str, int]], statements: list[str]
) -> None:
    assert routine_statements(current, desired) == statements


def test_routine_differences_name_both_sides() -> None:
    assert routine_differences({"a()": ("x", 0), "b()": ("y", 0)}, {"a()": ("z", 0)}) == [
        "a()",
        "b()",
    ]


# -- views ----------------------------------------------------------------------------------------

V = ViewDefinition("v", " SELECT 1;", (), True, ())
V2 = ViewDefinition("v", " SELECT 2;", (), True, ())
M_NO_DATA = ViewDefinition(
    "m", " SELECT 1;", (), False, (("m_idx", "CREATE INDEX m_idx ON s.m USING btree (x)"),)
)


def test_unchanged_views_are_left_alone_even_when_migra_recreates_them() -> None:
    statements = ['drop view if exists "s"."v";', 'create view "s"."v" as select 1;']
    plan = plan_views(statements, {("s", "v"): V}, {("s", "v"): V}, {})
    assert plan.drops == plan.creates == plan.statements == []


def test_type_change_rebuilds_only_the_views_reading_the_column() -> None:
    statements = ['alter table "s"."t" alter column "c" set data type bigint;']
    views = {("s", "reads_c"): V, ("s", "reads_d"): V, ("s", "on_reads_c"): V}
    readers = {
        ("s", "t"): {(("s", "reads_c"), "c"), (("s", "reads_d"), "d")},
        ("s", "reads_c"): {(("s", "on_reads_c"), "x")},
    }
    plan = plan_views(statements, views, views, readers)
    assert plan.rebuilt == [("s", "on_reads_c"), ("s", "reads_c")]
    assert plan.drops == ['DROP VIEW "s"."on_reads_c";', 'DROP VIEW "s"."reads_c";']
    assert plan.creates == [
        'CREATE VIEW "s"."reads_c" AS\nSELECT 1;',
        'CREATE VIEW "s"."on_reads_c" AS\nSELECT 1;',
    ]
    assert plan.statements == statements


def test_a_dropped_table_rebuilds_the_views_reading_it() -> None:
    statements = ['drop table "s"."t";', 'create table "s"."t" (id bigint);']
    views = {("s", "v"): V, ("s", "other"): V}
    plan = plan_views(statements, views, views, {("s", "t"): {(("s", "v"), "id")}})
    assert plan.rebuilt == [("s", "v")]
    assert plan.drops == ['DROP VIEW "s"."v";']
    assert plan.statements == statements


def test_changed_materialized_view_without_data_keeps_no_data_and_indexes() -> None:
    statements = [
        'drop materialized view if exists "s"."m";',
        'create materialized view "s"."m" as select 2;',
        "create index m_idx on s.m using btree (x);",
    ]
    before = ViewDefinition("m", " SELECT 2;", (), False, M_NO_DATA.indexes)
    plan = plan_views(statements, {("s", "m"): before}, {("s", "m"): M_NO_DATA}, {})
    assert plan.statements == []
    assert plan.drops == ['DROP MATERIALIZED VIEW "s"."m";']
    assert plan.creates == [
        'CREATE MATERIALIZED VIEW "s"."m" AS\nSELECT 1\nWITH NO DATA;',
        "CREATE INDEX m_idx ON s.m USING btree (x);",
    ]


def test_view_options_are_kept() -> None:
    with_options = ViewDefinition("v", "SELECT 1", ("security_invoker=true",), True, ())
    assert with_options.create("s", "v") == [
        'CREATE VIEW "s"."v" WITH (security_invoker=true) AS\nSELECT 1;'
    ]


def test_dropped_and_new_views() -> None:
    statements = ['drop view if exists "s"."old";', 'create view "s"."new" as select 2;']
    plan = plan_views(statements, {("s", "old"): V}, {("s", "new"): V2}, {})
    assert plan.statements == ['drop view if exists "s"."old";']
    assert plan.creates == ['CREATE VIEW "s"."new" AS\nSELECT 2;']


# -- indexes, partitions, generated columns, column order -----------------------------------------


def test_index_statements() -> None:
    current = {("s", "i"): "CREATE INDEX i ON s.t USING btree (a)", ("s", "j"): "J"}
    desired = {
        ("s", "i"): "CREATE INDEX i ON s.t USING btree (a) WITH (fillfactor='70')",
        ("s", "j"): "J",
    }
    assert index_statements(current, desired) == [
        'DROP INDEX "s"."i";',
        "CREATE INDEX i ON s.t USING btree (a) WITH (fillfactor='70');",
    ]


def test_partition_statements() -> None:
    current = {("s", "p"): (("s", "t"), "FOR VALUES IN (1)"), ("s", "q"): (("s", "t"), "DEFAULT")}
    desired = {
        ("s", "p"): (("s", "t"), "FOR VALUES IN (1, 2)"),
        ("s", "q"): (("s", "t"), "DEFAULT"),
    }
    assert partition_statements(current, desired) == [
        'ALTER TABLE "s"."t" DETACH PARTITION "s"."p";',
        'ALTER TABLE "s"."t" ATTACH PARTITION "s"."p" FOR VALUES IN (1, 2);',
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (170000, ['ALTER TABLE "s"."t" ALTER COLUMN "g" SET EXPRESSION AS ((id * 3));']),
        (
            150000,
            [
                'ALTER TABLE "s"."t" DROP COLUMN "g";',
                'ALTER TABLE "s"."t" ADD COLUMN "g" bigint GENERATED ALWAYS AS ((id * 3)) STORED;',
            ],
        ),
    ],
)
def test_generated_expression_changes(version: int, expected: list[str]) -> None:
    desired = {("s", "t", "g"): GeneratedColumn("(id * 3)", "bigint", False, True)}
    statements = [
        'alter table "s"."t" alter column "g" set default (id * 3);',
        'alter table "s"."t" alter column "d" set default 1;',
    ]
    assert generated_statements(statements, desired, version) == [*expected, statements[1]]


def test_a_generated_column_dropped_to_be_added_again_loses_no_data() -> None:
    desired = {("s", "t", "g"): GeneratedColumn("(id * 3)", "bigint", False, True)}
    assert drops_only_derived_values('ALTER TABLE "s"."t" DROP COLUMN "g";', desired)
    assert not drops_only_derived_values('ALTER TABLE "s"."t" DROP COLUMN "h";', desired)
    assert not drops_only_derived_values('DROP TABLE "s"."t";', desired)


def test_column_order_warning_names_the_column_and_what_to_do() -> None:
    (warning,) = column_order_warnings(
        {("s", "t"): ("id", "b", "a")}, {("s", "t"): ("id", "a", "b")}
    )
    assert "column a of s.t is declared after column id in the YAML" in warning
    assert "PostgreSQL adds columns at the end of a table" in warning
    assert "Move a to the end" in warning


def test_no_column_order_warning_when_the_order_agrees() -> None:
    assert column_order_warnings({("s", "t"): ("a", "b")}, {("s", "t"): ("a", "b")}) == []
    assert column_order_warnings({}, {("s", "t"): ("a",)}) == []
