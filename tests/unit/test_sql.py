"""The pglast-based package, table by table: no database, milliseconds."""

from __future__ import annotations

import pytest

from schemac.sql.classify import classify, describe
from schemac.sql.parse import (
    SqlSyntaxError,
    expression_error,
    parse_index_column,
    parse_type_name,
    partition_columns,
    query_error,
    setof_rest,
    statements_error,
)
from schemac.sql.references import Reference, expression_references, statement_references
from schemac.sql.statements import (
    concurrently,
    index_info,
    public_grantees,
    rename_index,
    split,
)
from schemac.sql.typed import (
    operator_error,
    plain_name_error,
    setting_name_error,
    storage_value_sql,
)

# -- type names -------------------------------------------------------------------------------

ACCEPTED_TYPES = [
    # text, schema as written, name, suffix, quoted rendering (own schema "app")
    ("int", None, "int4", "", '"int4"'),
    ("varchar(200)[]", None, "varchar", "(200)[]", '"varchar"(200)[]'),
    ("numeric(10,2)", None, "numeric", "(10, 2)", '"numeric"(10, 2)'),
    ("double precision", None, "float8", "", '"float8"'),
    ("timestamp(3) with time zone", None, "timestamptz", "(3)", '"timestamptz"(3)'),
    ("int[3][]", None, "int4", "[3][]", '"int4"[3][]'),
    ("int ARRAY", None, "int4", "[]", '"int4"[]'),
    ("app.mood[]", "app", "mood", "[]", '"app"."mood"[]'),
    ('"Odd"."Name X"', "Odd", "Name X", "", '"Odd"."Name X"'),
    ("mood", None, "mood", "", '"app"."mood"'),
    ("geometry(Point, 4326)", None, "geometry", "(point, 4326)", '"app"."geometry"(Point, 4326)'),
    ("pg_catalog.int4", "pg_catalog", "int4", "", '"pg_catalog"."int4"'),
]


@pytest.mark.parametrize(("text", "schema", "name", "suffix", "quoted"), ACCEPTED_TYPES)
def test_type_names_accepted(
    text: str, schema: str | None, name: str, suffix: str, quoted: str
) -> None:
    parsed = parse_type_name(text)
    assert (parsed.schema, parsed.name, parsed.suffix) == (schema, name, suffix)
    if len(parsed.catalog_name) == 1 or parsed.schema:
        assert parsed.quoted("app") == quoted


REJECTED_TYPES = [
    # text, offset of the problem, words of the message
    ("double precision); DROP TABLE public.canary; CREATE TABLE app.zz (c int", 16, "syntax"),
    ("int; DROP TABLE t", 5, "more than one statement"),
    ("int, text", 5, "more than one expression"),
    ("int -- swallow the rest", 4, "comment"),
    ("int /* c */", 4, "comment"),
    ("int::text", 0, "not a type name"),
    ('int COLLATE "C"', 0, "not a type name"),
    ("int FROM pg_class", 0, "fromClause"),
    ("int UNION SELECT 1", 0, "not a single expression"),
    ("int AS x", 0, "alias"),
    ("setof int", 0, "setof"),
    ("t.c%TYPE", 0, "not a type name"),
    ("", 0, "syntax"),
]


@pytest.mark.parametrize(("text", "offset", "words"), REJECTED_TYPES)
def test_type_names_rejected(text: str, offset: int, words: str) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        parse_type_name(text)
    assert caught.value.error.offset == offset
    assert words in caught.value.error.message


def test_setof_only_where_allowed() -> None:
    assert parse_type_name("setof app.t", allow_setof=True).setof
    assert setof_rest("SETOF app.t") == "app.t"
    assert setof_rest("settings") is None


# -- expressions, queries, bodies -------------------------------------------------------------

EXPRESSIONS = [
    ("now()", None),
    ("(a) OR (b)", None),
    ("VALUE <> 0", None),
    ("NULLIF(current_setting('app.x', true), '')::uuid", None),
    ("'it''s'", None),
    ("x -- trailing comment", None),
    ("now( + 1", (8, "end of input")),
    ("a) OR (b", (1, 'near ")"')),
    ("1; DROP TABLE t", (3, "more than one statement")),
    ("1, 2", (3, "more than one expression")),
    ("'é', 2", (5, "more than one expression")),
    ("x FROM t", (0, "fromClause")),
    ("x ORDER BY 1", (0, "sortClause")),
    ("1 UNION SELECT 2", (0, "not a single expression")),
    ("1 AS x", (0, "alias")),
]


@pytest.mark.parametrize(("text", "expected"), EXPRESSIONS)
def test_expressions(text: str, expected: tuple[int, str] | None) -> None:
    error = expression_error(text)
    if expected is None:
        assert error is None
    else:
        assert error is not None
        assert (error.offset, expected[1] in error.message) == (expected[0], True)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("SELECT 1", None),
        ("WITH a AS (SELECT 1) SELECT * FROM a;", None),
        ("VALUES (1), (2)", None),
        ("SELECT 1; SELECT 2", 10),
        ("DELETE FROM t", 0),
        ("SELECT FROM WHERE", 12),
        ("", 0),
    ],
)
def test_queries(text: str, offset: int | None) -> None:
    error = query_error(text)
    assert (error.offset if error else None) == offset


def test_statements_of_a_body() -> None:
    assert statements_error("SELECT 1; SELECT 2") is None
    assert statements_error("INSERT INTO t VALUES (1) RETURNING *") is None
    error = statements_error("SELECT 1;\nSELECT FROM WHERE 2")
    assert error is not None and error.offset == 22


# -- references -------------------------------------------------------------------------------


def test_references_come_from_the_tree_not_from_comments_or_literals() -> None:
    text = """
        -- reads other.commented
        SELECT x::app.mood, app.f(1), 'other.literal' /* other.block */, app.t.c
          FROM core.users u JOIN recent r ON true
         WHERE nextval('app.seq') > 0 AND 'app.rel'::regclass IS NOT NULL
    """
    found = statement_references(text)
    assert Reference("type", "app", "mood") in found
    assert Reference("function", "app", "f") in found
    assert Reference("relation", "core", "users") in found
    assert Reference("relation", None, "recent") in found
    assert Reference("relation", "app", "seq") in found  # nextval reads its literal as a name
    assert Reference("relation", "app", "rel") in found  # so does ::regclass
    assert Reference("relation", "app", "t") in found  # schema.table.column
    assert not {r for r in found if r.schema == "other"}


def test_expression_references() -> None:
    assert expression_references("ledger.next_number() + 1") == frozenset(
        {Reference("function", "ledger", "next_number")}
    )
    assert expression_references("'see ledger.entries'") == frozenset()
    assert expression_references("not ( valid") == frozenset()


# -- typed fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("search_path", True),
        ("timezone", True),
        ("work_mem", True),
        ("myext.some_option", True),
        ("role", True),
        ("Search_Path", True),  # case-insensitive, as PostgreSQL reads it
        ("TimeZone", True),
        ('"search_path"', False),
        ("search_path = x; DROP TABLE t", False),
        ("time zone", False),
        ("a .b", False),
        ("a.", False),
        ("", False),
    ],
)
def test_setting_names(name: str, ok: bool) -> None:
    assert (setting_name_error(name) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [("fillfactor", True), ("fastupdate", True), ("Fillfactor", False), ("a b", False),
     ("fillfactor = 1) ; DROP TABLE t; --", False), ('"x"', False), ("", False)],
)  # fmt: skip
def test_storage_parameter_names(name: str, ok: bool) -> None:
    assert (plain_name_error(name) is None) is ok


@pytest.mark.parametrize(
    ("value", "sql"),
    [(70, "70"), (0.5, "0.5"), (True, "true"), (False, "false"), ("on", "on"), ("auto", "auto"),
     ("70", "70"), ("70); DROP TABLE t; --", None), ("'x'", None), (float("inf"), None)],
)  # fmt: skip
def test_storage_parameter_values(value: object, sql: str | None) -> None:
    assert storage_value_sql(value) == sql


@pytest.mark.parametrize(
    ("operator", "ok"),
    [("=", True), ("&&", True), ("<>", True), ("-|-", True), ("@>", True),
     ("OPERATOR(pg_catalog.&&)", True), ("= 1 OR 1 =", False), ("=)", False),
     ("&& x) ; DROP TABLE t; --", False), ("= --", False), ("1", False), ("", False)],
)  # fmt: skip
def test_exclusion_operators(operator: str, ok: bool) -> None:
    assert (operator_error(operator) is None) is ok


@pytest.mark.parametrize(
    ("text", "column", "order", "nulls"),
    [
        ("created_at", "created_at", None, None),
        ("created_at desc", "created_at", "desc", None),
        ("a ASC NULLS FIRST", "a", "asc", "first"),
        ("a nulls last", "a", None, "last"),
    ],
)
def test_index_columns(text: str, column: str, order: str | None, nulls: str | None) -> None:
    parsed = parse_index_column(text)
    assert parsed is not None and (parsed.column, parsed.order, parsed.nulls) == (
        column,
        order,
        nulls,
    )


@pytest.mark.parametrize(
    "text", ["lower(a)", "a text_pattern_ops", 'a COLLATE "C"', "a, b", "a); DROP TABLE t; --"]
)
def test_index_columns_rejected(text: str) -> None:
    assert parse_index_column(text) is None


def test_partition_columns() -> None:
    assert partition_columns('RANGE ("at", (lower(x)), "a""b")') == ("at", 'a"b')


# -- scripts and statements -------------------------------------------------------------------


def test_split_is_exact() -> None:
    script = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
        "-- a comment; with a semicolon\n"
        "COMMENT ON TABLE t IS 'a; b';\n"
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
        "SELECT 'é'"
    )
    pieces = split(script)
    assert [p.text.split()[0:2] for p in pieces] == [
        ["CREATE", "FUNCTION"],
        ["COMMENT", "ON"],
        ["CREATE", "FUNCTION"],
        ["SELECT", "'é'"],
    ]
    assert pieces[0].text.endswith("$$ SELECT 1; $$")
    assert "'a; b'" in pieces[1].text
    assert script[pieces[3].offset :] == "SELECT 'é'"


def test_split_reports_the_offset_of_a_syntax_error() -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        split("SELECT 1;\nSELEC 2;")
    assert caught.value.error.offset == 10


CLASSIFIED = [
    # statement, kind, object kind, schema, name, destructive
    ('create table "a"."t" (id int)', "create table", "table", "a", "t", False),
    ('drop table "a"."t"', "drop table", "table", "a", "t", True),
    ("drop schema if exists s cascade", "drop schema", "schema", None, "s", True),
    ("drop sequence a.s", "drop sequence", "sequence", "a", "s", True),
    ("drop index if exists a.i", "drop index", "index", "a", "i", False),
    ("drop view a.v", "drop view", "view", "a", "v", False),
    ("drop materialized view a.m", "drop materialized view", "materialized view", "a", "m", True),
    ("drop type a.e", "drop type", "type", "a", "e", False),
    ("drop function a.f(int)", "drop function", "function", "a", "f", False),
    ("drop trigger t on a.b", "drop trigger", "trigger", "a", "t", False),
    ("drop policy p on a.b", "drop policy", "policy", "a", "p", False),
    ("drop extension citext", "drop extension", "extension", None, "citext", False),
    ("create unique index i on a.t using btree (c)", "create index", "index", "a", "i", False),
    ("create or replace view a.v as select 1", "create view", "view", "a", "v", False),
    ("create materialized view a.m as select 1 with no data", "create materialized view",
     "materialized view", "a", "m", False),
    ("create or replace function a.f() returns int language sql as $$select 1$$",
     "create function", "function", "a", "f", False),
    ("create procedure a.p() language sql as $$select 1$$", "create procedure", "procedure",
     "a", "p", False),
    ("alter function a.f(int) set search_path = x", "alter function", "function", "a", "f", False),
    ("create type a.e as enum ('x')", "create type", "type", "a", "e", False),
    ("alter type a.e add value 'x' after 'y'", "alter type", "type", "a", "e", False),
    ("create domain a.d as int", "create domain", "domain", "a", "d", False),
    ("create sequence a.s", "create sequence", "sequence", "a", "s", False),
    ("alter sequence a.s owned by a.t.c", "alter sequence", "sequence", "a", "s", False),
    ('create schema if not exists "s"', "create schema", "schema", None, "s", False),
    ("create extension if not exists citext with schema public", "create extension",
     "extension", None, "citext", False),
    ("create trigger t after insert on a.b for each row execute function a.f()",
     "create trigger", "trigger", "a", "t", False),
    ("create policy p on a.b using (true)", "create policy", "policy", "a", "p", False),
    ("alter policy p on a.b using (false)", "alter policy", "policy", "a", "p", False),
    ("grant select on table a.b to r", "grant", "table", "a", "b", False),
    ("revoke all on function a.f(int) from public", "revoke", "function", "a", "f", False),
    ("grant usage on schema s to r", "grant", "schema", None, "s", False),
    ("comment on table a.b is 'x'", "comment on", "table", "a", "b", False),
    ("comment on column a.b.c is 'x'", "comment on", "column", "a", "c", False),
    ("alter table a.b rename to c", "rename table", "table", "a", "b", False),
    ("alter table a.b rename column x to y", "rename column", "column", "a", "x", False),
    ("alter index a.i rename to j", "rename index", "index", "a", "i", False),
    ("set check_function_bodies = off", "set", None, None, "check_function_bodies", False),
    ("alter schema a rename to b", "rename schema", "schema", None, "a", False),
    ("alter schema s owner to r", "owner to", "schema", None, "s", False),
    ("alter function a.f(int) owner to r", "owner to", "function", "a", "f", False),
    ("alter view a.v set (security_invoker = true)", "alter view", "view", "a", "v", False),
    ("refresh materialized view a.m", "refresh materialized view", "materialized view", "a",
     "m", False),
    ("create role x nologin", "create role", "role", None, "x", False),
    ("grant a to b", "grant role", "role", None, "a", False),
    ("alter table a.t rename constraint k to j", "rename constraint", "constraint", "a", "k",
     False),
    ("comment on constraint k on a.b is null", "comment on", "constraint", "a", "k", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kind", "object_kind", "schema", "name", "destructive"), CLASSIFIED
)
def test_classify(
    text: str, kind: str, object_kind: str | None, schema: str | None, name: str, destructive: bool
) -> None:
    found = classify(text)
    assert (found.kind, found.object_kind, found.schema, found.name) == (
        kind,
        object_kind,
        schema,
        name,
    )
    assert bool(found.destructive) is destructive


def test_members_know_their_table() -> None:
    assert classify("drop trigger t on a.b").member_of == ("a", "b")
    assert classify("create policy p on a.b using (true)").member_of == ("a", "b")
    assert classify("create index i on a.b (c)").member_of == ("a", "b")


ALTER_TABLE = [
    # sub-command, action, column, constraint, destructive
    ("add column c int", "add column", "c", None, False),
    ("drop column c", "drop column", "c", None, True),
    ("alter column c set data type text using c::text", "set data type", "c", None, False),
    ("alter column c type bigint", "set data type", "c", None, False),
    ("alter column c set default 1", "set default", "c", None, False),
    ("alter column c drop default", "drop default", "c", None, False),
    ("alter column c set not null", "set not null", "c", None, False),
    ("alter column c drop not null", "drop not null", "c", None, False),
    ("alter column c set expression as (1)", "set expression", "c", None, False),
    ("alter column c drop expression", "drop expression", "c", None, False),
    ("alter column c add generated always as identity", "add identity", "c", None, False),
    ("alter column c set generated by default", "set identity", "c", None, False),
    ("alter column c drop identity", "drop identity", "c", None, False),
    ("add constraint k check (x > 0)", "add constraint", None, "k", False),
    ("add constraint k unique using index i", "add constraint", None, "k", False),
    ("drop constraint k", "drop constraint", None, "k", False),
    ("validate constraint k", "validate constraint", None, "k", False),
    ("enable row level security", "enable row level security", None, None, False),
    ("disable row level security", "disable row level security", None, None, False),
    ("force row level security", "force row level security", None, None, False),
    ("no force row level security", "no force row level security", None, None, False),
    ("owner to r", "owner to", None, None, False),
    ("replica identity full", "replica identity", None, None, False),
    ("attach partition a.c for values in (1)", "attach partition", None, None, False),
    ("detach partition a.c", "detach partition", None, None, False),
    ("set logged", "set logged", None, None, False),
    ("set unlogged", "set unlogged", None, None, False),
    ("set (fillfactor = 70)", "set options", None, None, False),
]


@pytest.mark.parametrize(("command", "action", "column", "constraint", "destructive"), ALTER_TABLE)
def test_alter_table_sub_commands(
    command: str, action: str, column: str | None, constraint: str | None, destructive: bool
) -> None:
    found = classify(f'alter table "a"."t" {command}')
    assert (found.kind, found.schema, found.name) == ("alter table", "a", "t")
    (sub,) = found.subcommands
    assert (sub.action, sub.column, sub.constraint) == (action, column, constraint)
    assert bool(found.destructive) is destructive


def test_alter_table_with_several_sub_commands() -> None:
    found = classify("alter table a.t add column x int, drop column y, drop constraint k")
    assert [s.action for s in found.subcommands] == ["add column", "drop column", "drop constraint"]
    assert found.destructive == ("drops column y of a.t and its data",)


def test_concurrently_rewrite_prints_from_the_tree() -> None:
    text = (
        'CREATE UNIQUE INDEX "i" ON "a"."t" USING gin ("c") WITH (fastupdate = false) WHERE x > 1'
    )
    rewritten = concurrently(text)
    assert rewritten.startswith("CREATE UNIQUE INDEX CONCURRENTLY i ON a.t USING gin (c)")
    assert classify(rewritten).kind == "create index"
    info = index_info(rewritten)
    assert info is not None and (info.schema, info.name, info.table, info.concurrent) == (
        "a",
        "i",
        "t",
        True,
    )
    assert concurrently("drop index a.i") == "DROP INDEX CONCURRENTLY a.i"
    with pytest.raises(ValueError):
        concurrently("create table t ()")


def test_index_info() -> None:
    info = index_info("create index i on only a.t (c)")
    assert info is not None and info.only and not info.unique
    assert index_info("create table t ()") is None


def test_references_in_fields_the_tree_does_not_wrap() -> None:
    found = statement_references(
        "INSERT INTO a.b (x) VALUES (1::c.t); UPDATE d.e SET x = 1; DELETE FROM f.g;"
        " CREATE TEMP TABLE z (c h.i)"
    )
    assert {r for r in found if r.schema} == {
        Reference("relation", "a", "b"),
        Reference("type", "c", "t"),
        Reference("relation", "d", "e"),
        Reference("relation", "f", "g"),
        Reference("type", "h", "i"),
    }


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ('alter table "core"."users" add column "x" int', "table core.users"),
        ("create trigger t after insert on core.users for each row execute function f()",
         "trigger t on core.users"),
        ("drop policy p on core.users", "policy p on core.users"),
        ("alter table core.users add constraint k unique (x)", "constraint k on core.users"),
        ("grant select on table core.users to r", "privileges on core.users"),
        ("create index i on core.users (x)", "index core.i"),
        ("create materialized view core.m as select 1", "materialized view core.m"),
        ("drop schema s", "schema s"),
        ("not sql at all", "statement"),
        # named as the catalog model names them: "a.b".c is not a."b.c"
        ('alter table "a.b".c add column x int', 'table "a.b".c'),
        ('alter table a."b.c" add column x int', 'table a."b.c"'),
        ('drop trigger "c.x" on a.b', 'trigger "c.x" on a.b'),
        ('drop policy "p on a" on b.t', 'policy "p on a" on b.t'),
        ('alter table "a.b".c add constraint k check (true)', 'constraint k on "a.b".c'),
    ],
)  # fmt: skip
def test_describe(text: str, described: str) -> None:
    assert describe(text) == described


def test_key_added_using_an_index() -> None:
    (sub,) = classify("alter table a.t add constraint k unique using index i").subcommands
    assert (sub.constraint, sub.using_index) == ("k", "i")


def test_rename_index_and_public_grantees_on_the_tree() -> None:
    renamed = rename_index('CREATE INDEX "old" ON "a"."t" USING btree ("c")', "new_name")
    assert renamed == "CREATE INDEX new_name ON a.t (c)"  # RawStream leaves out the default btree
    assert public_grantees('GRANT SELECT ON TABLE a.b TO "PUBLIC", x') == (
        "GRANT SELECT ON TABLE a.b TO PUBLIC, x"
    )
    unchanged = 'GRANT SELECT ON TABLE a.b TO "Public"'
    assert public_grantees(unchanged) == unchanged
    assert public_grantees("create table t ()") == "create table t ()"
