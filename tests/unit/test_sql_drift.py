"""What the drift side reads from SQL and from its own labels, by PostgreSQL's parser and lexer."""

from __future__ import annotations

import pytest

from schemac.comparison import _about, _is_no_op, without_owner_filters
from schemac.drift import describe_statement, split_statements
from schemac.errors import SchemacError
from schemac.node_keys import node_key
from schemac.objects import ObjectRef, _keys, identity_ref, model_ref, statement_ref
from schemac.sql.names import LabelNames, label_names, unquote
from schemac.sql.rewrite import calls_as_true
from schemac.sql.statements import setting

# migra's statements and the object each is about (the strings check and diff report).
DESCRIBED = [
    ('create table "core"."users" ("id" bigint not null);', "table core.users"),
    ('drop table "core"."users";', "table core.users"),
    ('alter table "core"."users" add column "nick" text;', "table core.users"),
    (
        'alter table "core"."users" alter column "email" set data type varchar(10) '
        'using "email"::varchar(10);',
        "table core.users",
    ),
    (
        'alter table "core"."users" add constraint "users_pkey" PRIMARY KEY using index "users_pkey";',
        "constraint users_pkey on core.users",
    ),
    ('alter table "core"."users" drop constraint "u_check";', "constraint u_check on core.users"),
    ('alter table "core"."users" validate constraint "u_fk";', "constraint u_fk on core.users"),
    ("CREATE UNIQUE INDEX users_pkey ON core.users USING btree (id);", "index core.users_pkey"),
    ('drop index if exists "core"."users_pkey";', "index core.users_pkey"),
    ('create or replace view "core"."v" as  SELECT 1;', "view core.v"),
    ('create materialized view "core"."mv" as  SELECT 1 WITH DATA;', "materialized view core.mv"),
    ('drop materialized view if exists "core"."mv";', "materialized view core.mv"),
    (
        "CREATE OR REPLACE FUNCTION core.f(a integer) RETURNS integer LANGUAGE sql "
        "AS $function$ select 1; -- on other.t $function$;",
        "function core.f",
    ),
    ('drop function if exists "core"."f"(a integer);', "function core.f"),
    (
        "CREATE TRIGGER touch BEFORE UPDATE ON core.users FOR EACH ROW EXECUTE FUNCTION core.t();",
        "trigger touch on core.users",
    ),
    ('drop trigger if exists "touch" on "core"."users";', "trigger touch on core.users"),
    (
        'create policy "p" on "core"."users" as permissive for all to public using (true);',
        "policy p on core.users",
    ),
    ('drop policy "p" on "core"."users";', "policy p on core.users"),
    ("create type \"core\".\"mood\" as enum ('a', 'b');", "type core.mood"),
    ('alter type "core"."mood" add value \'c\';', "type core.mood"),
    ('create sequence "core"."s";', "sequence core.s"),
    ('alter sequence "core"."s" owned by "core"."users"."id";', "sequence core.s"),
    ('create schema if not exists "core";', "schema core"),
    ('drop schema if exists "core";', "schema core"),
    ('create extension if not exists "citext" with schema "public";', "extension citext"),
    ('grant select on table "core"."users" to "app";', "privileges on core.users"),
    ('revoke insert on table "core"."users" from "PUBLIC";', "privileges on core.users"),
    # the regexes said "object core.f" and "object core.users" for these two
    ('grant execute on function "core"."f"(integer) to "app";', "privileges on core.f"),
    ('comment on column "core"."users"."id" is \'x\';', "column id on core.users"),
    ('comment on table "core"."users" is \'x\';', "table core.users"),
    ('create domain "core"."d" as integer;', "domain core.d"),
    # a part holding a quote is quoted (doubled inside), as the catalog model labels it
    ('create table "a b"."C""d" (x int);', 'table a b."C""d"'),
]


@pytest.mark.parametrize(("statement", "expected"), DESCRIBED)
def test_describe_statement(statement: str, expected: str) -> None:
    assert describe_statement(statement) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('"core"."users"', "core.users"),
        ("core.users", "core.users"),
        ('"a b"."C""d"', 'a b.C"d'),
        ('"Core" . "Users"', "Core.Users"),
        ("table core.users", "table.core.users"),
        ('trigger "t" on core.users', "trigger.t.on.core.users"),
        ('x "unterminated', 'x "unterminated'),
    ],
)
def test_unquote(name: str, expected: str) -> None:
    assert unquote(name) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("table core.users", LabelNames(("table",), ("core.users",))),
        (
            "trigger touch on core.users",
            LabelNames(("trigger", "touch", "on"), ("core.users",), "touch", "core.users"),
        ),
        (
            '"a "" b" on "Core"."T"',
            LabelNames(('a " b', "on"), ("Core.T",), 'a " b', "Core.T"),
        ),
        ("comment on view core.v", LabelNames(("comment", "on", "view"), ("core.v",))),
        ("column core.t.c", LabelNames(("column",), ("core.t.c",))),
        ("function core.f(integer, text)", LabelNames(("function",), ("core.f",))),
        ("privileges on schema core", LabelNames(("privileges", "on", "schema", "core"), ())),
    ],
)
def test_label_names(label: str, expected: LabelNames) -> None:
    assert label_names(label) == expected


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("set check_function_bodies = off", ("check_function_bodies", ("off",))),
        ("SET check_function_bodies TO false;", ("check_function_bodies", ("false",))),
        ('set search_path = a, "B"', ("search_path", ("a", "B"))),
        ("set statement_timeout = 5", ("statement_timeout", ("5",))),
        ("set work_mem to default", None),
        ("select 1", None),
    ],
)
def test_setting(statement: str, expected: tuple[str, tuple[str, ...]] | None) -> None:
    assert setting(statement) == expected


@pytest.mark.parametrize(
    ("statement", "no_op"),
    [
        ("set check_function_bodies = off;", True),
        ("SET check_function_bodies TO 'off'", True),
        ("set check_function_bodies = on;", False),
        ("set search_path = off;", False),
        ("alter table t add column off int;", False),
    ],
)
def test_migra_no_ops(statement: str, no_op: bool) -> None:
    assert _is_no_op(statement) is no_op


def test_calls_as_true_replaces_only_the_matching_calls() -> None:
    query = (
        "select a from t where pg_has_role(r.relowner, 'USAGE'::text) "
        "or pg_has_role(x, 'MEMBER') -- pg_has_role(y, 'USAGE')\n"
        "and b = 'pg_has_role(z, ''USAGE'')'"
    )
    printed, replaced = calls_as_true(query, "pg_has_role", "USAGE")
    assert replaced == 1
    assert printed == (
        "SELECT a FROM t WHERE TRUE OR (pg_has_role(x, 'MEMBER') AND b = 'pg_has_role(z, ''USAGE'')')"
    )


def test_schemainspect_queries_lose_their_owner_filters() -> None:
    from schemainspect.pg.obj import CONSTRAINTS_QUERY, FUNCTIONS_QUERY

    for raw in (FUNCTIONS_QUERY, CONSTRAINTS_QUERY):
        # as schemainspect prepares them for PostgreSQL 11 and later, internal objects skipped
        query = raw.replace("-- SKIP_INTERNAL", "").replace("-- 11_AND_LATER", "")
        rewritten = without_owner_filters(query)
        assert "pg_has_role" not in rewritten
        assert "TRUE OR has_" in rewritten  # the other half of each filter stays
        assert calls_as_true(rewritten, "pg_has_role", "USAGE")[1] == 0  # and it parses again
    with pytest.raises(SchemacError, match="no longer filters by owner"):
        without_owner_filters("select 1")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("select 1; select 2;", ["select 1", "select 2"]),
        ("-- only a comment\n;\n/* and another */", []),
        (
            "create function f() returns int language plpgsql as $b$ begin; return 1; end $b$;"
            " select ';'",
            [
                "create function f() returns int language plpgsql as $b$ begin; return 1; end $b$",
                "select ';'",
            ],
        ),
        (
            "create function g() returns int language sql begin atomic select 1; end; select 3",
            [
                "create function g() returns int language sql begin atomic select 1; end",
                "select 3",
            ],
        ),
        ("select E'a\\';b'; select \"x;y\" from t", ["select E'a\\';b'", 'select "x;y" from t']),
    ],
)
def test_split_statements(script: str, expected: list[str]) -> None:
    assert split_statements(script) == expected


@pytest.mark.parametrize(
    ("statement", "about"),
    [
        ('drop table "public"."flyway_schema_history";', True),
        ('drop index if exists "public"."flyway_schema_history_s_idx";', True),
        (
            'alter table "public"."flyway_schema_history" drop constraint "flyway_schema_history_pk";',
            True,
        ),
        ("comment on column public.flyway_schema_history.script is 'x';", True),
        ('revoke select on table "public"."flyway_schema_history" from "app";', True),
        # a statement that only mentions the name is not about the relation
        (
            "CREATE FUNCTION core.f() RETURNS int LANGUAGE sql "
            "AS $$ select count(*) from public.flyway_schema_history $$;",
            False,
        ),
        ("comment on table core.t is 'unlike flyway_schema_history';", False),
        ('drop index "core"."t_idx";', False),
    ],
)
def test_statements_about_skipped_relations(statement: str, about: bool) -> None:
    names = frozenset({"flyway_schema_history", "flyway_schema_history_s_idx"})
    assert _about(statement, names) is about


@pytest.mark.parametrize(
    ("statement", "ref"),
    [
        ('create table "core"."users" (id int);', ObjectRef("table", "core", "users")),
        (
            'drop trigger if exists "touch" on "core"."users";',
            ObjectRef("trigger", "core", "touch", "core.users", "users"),
        ),
        (
            'alter table "core"."users" add constraint "u_fk" foreign key (a) references core.t(a);',
            ObjectRef("constraint", "core", "u_fk", "core.users"),
        ),
        ("CREATE INDEX i ON core.users USING btree (id);", ObjectRef("index", "core", "i")),
        ('grant select on table "core"."v" to "app";', ObjectRef("table", "core", "v")),
        ('create schema if not exists "Core";', ObjectRef("schema", None, "Core")),
        (
            "comment on column core.users.id is 'x';",
            ObjectRef("column", "core", "id", "core.users", "users"),
        ),
        ("set check_function_bodies = off;", ObjectRef("set", None, "check_function_bodies")),
        ("not sql", None),
    ],
)
def test_statement_ref(statement: str, ref: ObjectRef | None) -> None:
    assert statement_ref(statement) == ref


@pytest.mark.parametrize(
    ("kind", "identity", "ref"),
    [
        ("table", "core.users", ObjectRef("table", "core", "users")),
        ("table", '"Core"."my table"', ObjectRef("table", "Core", "my table")),
        ("policy", "isolate on core.users", ObjectRef("policy", "core", "isolate", "core.users")),
        ("function", "core.f(integer, text)", ObjectRef("function", "core", "f")),
        ("schema", '"Core"', ObjectRef("schema", None, "Core")),
        (
            "table column",
            "core.users.email",
            ObjectRef("table column", "core", "email", "core.users"),
        ),
    ],
)
def test_identity_ref(kind: str, identity: str, ref: ObjectRef) -> None:
    assert identity_ref(kind, identity) == ref


@pytest.mark.parametrize(
    ("ref", "keys"),
    [
        (ObjectRef("table", "core", "users"), ["relation:core.users"]),
        (ObjectRef("materialized view", "core", "mv"), ["relation:core.mv"]),
        (ObjectRef("enum", "core", "mood"), ["type:core.mood"]),
        (ObjectRef("procedure", "core", "p"), ["function:core.p"]),
        (ObjectRef("schema", None, "core"), ["schema:core"]),
        (
            ObjectRef("trigger", "core", "touch", "core.users", "users"),
            ["trigger:core.users.touch", "relation:core.users"],
        ),
        (
            ObjectRef("constraint", "core", "u_check", "core.users", "users"),
            ["fk:core.users.u_check", "relation:core.users"],
        ),
        (ObjectRef("column", "core", "id", "core.users", "users"), ["relation:core.users"]),
        (ObjectRef("aggregate", "core", "total"), ["function:core.total"]),
        (
            ObjectRef("operator", "core", "total"),
            ["relation:core.total", "type:core.total", "index:core.total", "function:core.total"],
        ),
    ],
)
def test_node_keys_of_a_ref(ref: ObjectRef, keys: list[str]) -> None:
    # The expected keys are written `prefix:part.part`: these names hold no dots.
    expected = [node_key(k.split(":")[0], *k.split(":")[1].split(".")) for k in keys]
    assert _keys(ref) == expected


def test_model_ref_reads_the_objects_fields() -> None:
    from schemac.model import QName

    class Member:  # the fields a catalog model trigger, policy or foreign key has
        name = "touch"
        table = QName("core", "users")

    class Named:
        qname = QName("core", "f")

    assert model_ref("trigger", "touch on core.users", Member()) == ObjectRef(
        "trigger", "core", "touch", "core.users"
    )
    assert model_ref("function", "core.f(integer)", Named()) == ObjectRef("function", "core", "f")
    assert model_ref("role", "app", object()) == ObjectRef("role", None, "app")
