"""The mutation matrix's explicit values: only where a generic value by JSON type cannot
work (SQL expressions, type names, references, objects that need a companion property)."""

from __future__ import annotations

from typing import Any

from diff.matrix_kinds import APP_ROLE, READER_ROLE, SCHEMA

# A property the baseline leaves out (or the change removes).
ABSENT: Any = object()

COVERED_ELSEWHERE = {
    "document": {
        "schema",
        "extensions",
        "roles",
        "enums",
        "domains",
        "composite_types",
        "range_types",
        "aggregates",
        "publications",
        "sequences",
        "tables",
        "views",
        "materialized_views",
        "functions",
        "procedures",
        # Declarations of what the project does not manage: never migrated, so there is no
        # change to prove here; tests/external proves they validate, stub the shadows and
        # stay out of every migration.
        "external",
        "default_privileges",  # the default_privileges kind
    },
    "partition": {"to"},  # a range bound is `from` and `to` together: the `from` case
    # default privileges on new schemas are project-wide (never IN SCHEMA, and the matrix's
    # copies are one schema each): tests/diff/test_exact_privileges.py changes them
    "default_privileges": {"schemas"},
    "partition_bound": set(),
}

# (kind, property) -> (baseline value or ABSENT, changed value), or a function of the baseline.
Mutation = tuple[Any, Any]
OVERRIDES: dict[tuple[str, str], Mutation] = {
    ("role", "member_of"): ([READER_ROLE], [APP_ROLE]),
    ("extension", "schema"): ("public", SCHEMA),
    ("extension", "version"): ("1.7", "1.8"),
    ("enum", "values"): (["a", "b"], ["a", "c", "b"]),
    ("domain", "type"): ("text", "character varying(20)"),
    ("composite_type", "attributes"): ({"a": "integer"}, {"a": "integer", "b": "text"}),
    ("range_type", "subtype"): ("text", "integer"),
    ("publication", "all_tables"): (ABSENT, True),
    ("publication", "tables"): (
        ["host"],
        [{"table": "host", "columns": ["id", "label"], "where": "id > 0"}],
    ),
    ("publication", "schemas"): (ABSENT, ["m"]),
    ("publication", "publish"): (ABSENT, ["insert", "delete"]),
    ("aggregate", "args"): (["integer"], ["smallint"]),
    ("aggregate", "sfunc"): ("int4pl", "int4larger"),
    ("aggregate", "stype"): ("integer", "bigint"),
    ("aggregate", "finalfunc"): (ABSENT, "int4abs"),
    ("aggregate", "initcond"): (ABSENT, "0"),
    ("aggregate", "combinefunc"): (ABSENT, "int4pl"),
    ("aggregate", "parallel"): (ABSENT, "safe"),
    ("range_type", "subtype_opclass"): (ABSENT, "text_pattern_ops"),
    ("range_type", "collation"): (ABSENT, "C"),
    ("range_type", "subtype_diff"): (ABSENT, "numrange_subdiff"),
    ("range_type", "multirange_type_name"): (ABSENT, "rg_other_multirange"),
    ("domain", "default"): (ABSENT, "'x'"),
    ("domain", "collation"): (ABSENT, "C"),
    ("domain", "checks"): ({"not_blank": "VALUE <> ''"}, {"not_blank": "length(VALUE) > 1"}),
    ("sequence", "type"): ("bigint", "integer"),
    ("sequence", "owned_by"): (ABSENT, "host.n"),
    ("sequence", "min_value"): (ABSENT, 0),
    ("sequence", "max_value"): (ABSENT, 1000),
    ("default_privileges", "for_role"): (ABSENT, APP_ROLE),
    ("default_privileges", "functions"): (ABSENT, {APP_ROLE: ["execute"]}),
    ("default_privileges", "types"): (ABSENT, {READER_ROLE: ["usage"]}),
    ("table", "columns"): (
        {"id": {"type": "bigint", "not_null": True}, "v": {"type": "integer"}},
        {
            "id": {"type": "bigint", "not_null": True},
            "v": {"type": "integer"},
            "w": {"type": "text"},
        },
    ),
    ("table", "primary_key"): (["id"], {"name": "tb_primary_key_id", "columns": ["id"]}),
    ("table", "unique"): (ABSENT, [["v"]]),
    ("table", "checks"): (ABSENT, {"v_positive": "v > 0"}),
    ("table", "foreign_keys"): (ABSENT, [{"columns": ["id"], "references": {"table": "host"}}]),
    ("table", "exclusions"): (
        ABSENT,
        [{"using": "gist", "elements": [{"column": "v", "with": "="}]}],
    ),
    ("table", "indexes"): (ABSENT, [{"columns": ["v"]}]),
    ("table", "triggers"): (
        ABSENT,
        {"t": {"timing": "before", "events": ["insert"], "for_each": "row", "function": "trg"}},
    ),
    ("table", "row_level_security"): (ABSENT, {"enable": True, "force": True}),
    ("table", "policies"): (ABSENT, {"p": {"using": "true"}}),
    ("table", "partition_by"): (ABSENT, {"strategy": "hash", "key": ["id"]}),
    ("table", "partitions"): (ABSENT, {"tb_partitions_p0": {"modulus": 1, "remainder": 0}}),
    ("table", "seed"): (ABSENT, {"key": ["id"], "rows": [{"id": 1, "v": 2}]}),
    ("table", "tenant"): (ABSENT, "v"),
    ("table", "replica_identity"): (ABSENT, "full"),
    ("column", "type"): ("integer", "bigint"),
    ("column", "default"): ("1", "2"),
    ("column", "generated"): ("id * 2", "id * 3"),
    ("column", "collation"): (ABSENT, "C"),
    ("column", "check"): (ABSENT, "c_check > 0"),
    ("column", "references"): (ABSENT, "host"),
    ("column", "grants"): (ABSENT, {READER_ROLE: ["select", "update"]}),
    ("index", "name"): ("ix_name", "ix_name_renamed"),
    ("foreign_key", "name"): ("fk_name", "fk_name_renamed"),
    ("exclusion", "name"): ("ex_name", "ex_name_renamed"),
    ("column_reference", "table"): ("host", "host2"),
    ("column_reference", "column"): (ABSENT, "id"),
    ("column_reference", "name"): (ABSENT, "cr_name_fkey_renamed"),
    ("primary_key", "name"): (ABSENT, "pk_name_renamed"),
    ("primary_key", "columns"): (["id"], ["id", "v"]),
    ("index", "columns"): (["a"], ["b"]),
    ("index", "include"): (ABSENT, ["b"]),
    ("index", "where"): (ABSENT, "a > 0"),
    ("index", "with"): (ABSENT, {"fillfactor": 70}),
    ("index", "method"): (ABSENT, "hash"),
    ("index_element", "column"): ("t", "a"),
    ("index_element", "expression"): (ABSENT, "lower(t)"),
    ("unique_constraint", "name"): ("uq_name", "uq_name_renamed"),
    ("index_element", "order"): (ABSENT, "desc"),
    ("index_element", "nulls"): (ABSENT, "first"),
    ("index_element", "opclass"): (ABSENT, "text_pattern_ops"),
    ("index_element", "collation"): (ABSENT, "C"),
    ("unique_constraint", "columns"): (["a"], ["a", "b"]),
    ("foreign_key", "columns"): (["a"], ["b"]),
    ("foreign_key", "references"): ({"table": "host"}, {"table": "host2"}),
    ("exclusion", "using"): ("gist", "btree"),
    ("exclusion", "elements"): ([{"column": "a", "with": "="}], [{"column": "b", "with": "="}]),
    ("exclusion", "where"): (ABSENT, "a > 0"),
    ("trigger", "timing"): ("before", "after"),
    ("trigger", "events"): (["insert"], ["insert", "update"]),
    ("trigger", "update_of"): (ABSENT, ["a"]),
    ("trigger", "when"): (ABSENT, "NEW.a > 0"),
    ("trigger", "function"): ("trg", "trg2"),
    ("trigger", "arguments"): (ABSENT, ["x"]),
    ("trigger", "referencing"): (ABSENT, {"new_table": "inserted"}),
    ("policy", "command"): ("select", "update"),
    ("policy", "using"): ("true", "a > 0"),
    ("policy", "with_check"): (ABSENT, "a > 0"),
    ("partition", "from"): ([0], [5]),
    ("partition", "in"): ([1], [1, 2]),
    ("partition", "modulus"): (2, 4),
    ("partition", "remainder"): (0, 1),
    ("partition", "default"): (ABSENT, True),  # the bound given up: see COMPANIONS
    # What a partition declares itself (partitions13).
    ("partition", "unique"): (ABSENT, [["k"]]),
    ("partition", "primary_key"): (ABSENT, ["k"]),
    ("partition", "checks"): (ABSENT, {"pa_checks_k": "k > 1"}),
    ("partition", "foreign_keys"): (ABSENT, [{"columns": ["k"], "references": {"table": "host"}}]),
    ("partition", "indexes"): (ABSENT, [{"columns": ["k"]}]),
    ("partition", "exclusions"): (
        ABSENT,
        [{"using": "gist", "elements": [{"column": "k", "with": "="}]}],
    ),
    ("partition", "partition_by"): (ABSENT, {"strategy": "list", "key": ["k"]}),
    ("partition", "partitions"): (ABSENT, {"pa_partitions_one": {"in": [1]}}),
    # What a partition holds itself, never passed down (partown13).
    ("partition", "triggers"): (
        ABSENT,
        {"t": {"timing": "before", "events": ["insert"], "for_each": "row", "function": "trg"}},
    ),
    ("partition", "row_level_security"): (ABSENT, {"enable": True, "force": True}),
    ("partition", "policies"): (ABSENT, {"p": {"using": "k > 0"}}),
    ("partition", "replica_identity"): (ABSENT, "full"),
    ("partition", "column_grants"): (ABSENT, {"k": {READER_ROLE: ["select", "update"]}}),
    ("view", "query"): ("SELECT id, label FROM m.host", "SELECT id, label, n FROM m.host"),
    ("view", "columns"): (ABSENT, ["vid", "vlabel"]),
    ("view", "depends_on"): (ABSENT, ["m.host"]),
    ("view", "column_comments"): (ABSENT, {"id": "The id."}),
    ("materialized_view", "query"): (
        "SELECT id, label FROM m.host",
        "SELECT id, label, n FROM m.host",
    ),
    ("materialized_view", "columns"): (ABSENT, ["vid", "vlabel"]),
    ("materialized_view", "with_data"): (True, False),
    ("materialized_view", "indexes"): (ABSENT, [{"columns": ["id"]}]),
    ("materialized_view", "depends_on"): (ABSENT, ["m.host"]),
    ("materialized_view", "column_comments"): (ABSENT, {"id": "The id."}),
    ("function", "language"): ("sql", "plpgsql"),
    ("function", "arguments"): (
        [{"name": "p", "type": "integer"}],
        [{"name": "p", "type": "integer"}, {"name": "q", "type": "integer", "default": "0"}],
    ),
    ("function", "set"): (ABSENT, {"search_path": "pg_catalog, pg_temp"}),
    ("function", "body"): ("SELECT p + 1", "SELECT p + 2"),
    ("function", "body_file"): (ABSENT, "fn_body_file.sql"),
    ("function", "depends_on"): (ABSENT, ["m.host"]),
    ("function", "returns"): ("integer", "bigint"),
    ("function", "rows"): (ABSENT, 50),
    ("argument", "name"): ("p", "q"),
    ("argument", "type"): ("integer", "bigint"),
    ("argument", "mode"): (ABSENT, "inout"),
    ("argument", "default"): (ABSENT, "5"),
    ("procedure", "language"): ("plpgsql", "sql"),
    ("procedure", "arguments"): (
        [{"name": "p", "type": "integer"}],
        [{"name": "p", "type": "integer"}, {"name": "q", "type": "integer", "default": "0"}],
    ),
    ("procedure", "set"): (ABSENT, {"search_path": "pg_catalog, pg_temp"}),
    ("procedure", "body"): ("BEGIN PERFORM p; END", "BEGIN PERFORM p + 1; END"),
    ("procedure", "body_file"): (ABSENT, "pr_body_file.sql"),
    ("procedure", "depends_on"): (ABSENT, ["m.host"]),
    ("document", "owner"): (ABSENT, APP_ROLE),
    ("document", "table_grants"): (ABSENT, {READER_ROLE: ["select"]}),
    ("document", "sequence_grants"): (ABSENT, {READER_ROLE: ["usage"]}),
    ("document", "function_grants"): (ABSENT, {READER_ROLE: ["execute"]}),
    # A rename: the changed project declares the object under a new name (see Case.new_name).
    ("table", "renamed_from"): (ABSENT, "tb_renamed_from"),
    ("column", "renamed_from"): (ABSENT, "c_renamed_from"),
    ("column", "identity"): (ABSENT, "by_default"),  # the long form: the identity kind
    # Lowered: a raised MINVALUE above the sequence's current value is refused by PostgreSQL
    # (the reversed case, test_mutation_matrix.REVERSED_REFUSED).
    ("identity", "minvalue"): (ABSENT, -5),
    ("generated_column", "expression"): ("id * 2", "id * 3"),
    # false (VIRTUAL) needs postgres_version 18: tests/diff/test_table_options.py
    ("generated_column", "stored"): (ABSENT, True),
    ("table_check", "expression"): ("a > 0", "a > 1"),
}

# What a change needs besides the property itself, so that the object stays valid:
# (kind, property) -> properties set in both the baseline and the change.
COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("column", "identity"): {"type": "bigint", "not_null": True, "default": ABSENT},
    ("column", "generated"): {"type": "bigint", "default": ABSENT},
    ("column", "collation"): {"type": "text", "default": ABSENT},
    ("column", "primary_key"): {"default": ABSENT},
    ("index", "nulls_not_distinct"): {"unique": True},
    ("range_type", "subtype_diff"): {"subtype": "numeric"},
    ("index", "method"): {"columns": ["a"]},
    ("index_element", "opclass"): {"column": "t"},
    ("unique_constraint", "initially_deferred"): {"deferrable": True},
    # CREATE TABLE keeps one of several identical key or exclusion constraints: these differ.
    ("unique_constraint", "comment"): {"columns": ["b"]},
    ("exclusion", "comment"): {"where": "b > 5"},
    ("foreign_key", "initially_deferred"): {"deferrable": True},
    ("column_reference", "initially_deferred"): {"deferrable": True},
    ("foreign_key", "on_delete"): {"columns": ["b"]},
    ("foreign_key", "on_update"): {"columns": ["b"]},
    ("exclusion", "initially_deferred"): {"deferrable": True},
    ("trigger", "update_of"): {"events": ["update"]},
    ("trigger", "referencing"): {"timing": "after"},
    ("trigger", "for_each"): {"timing": "after"},
    ("policy", "with_check"): {"command": "all"},
    ("policy", "as"): {"command": "all"},
    ("partition", "in"): {"from": ABSENT, "to": ABSENT},
    ("partition", "modulus"): {"from": ABSENT, "to": ABSENT, "remainder": 0},
    ("partition", "remainder"): {"from": ABSENT, "to": ABSENT, "modulus": 2},
    ("partition", "comment"): {},
    ("partition", "partitions"): {"partition_by": {"strategy": "list", "key": ["k"]}},
    ("view", "check_option"): {"query": "SELECT id, label FROM m.host WHERE n > 0"},
    ("function", "rows"): {"returns": "setof integer", "body": "SELECT p + 1"},
    ("table", "partitions"): {"partition_by": {"strategy": "hash", "key": ["id"]}},
    ("table", "tenant"): {
        "columns": {"id": {"type": "bigint", "not_null": True}, "v": {"type": "uuid"}}
    },
    ("function", "leakproof"): {"volatility": "immutable"},
    ("argument", "default"): {},
    ("argument", "mode"): {},
}


# What the change drops besides setting the property (a partition that becomes the default
# gives up its bound).
AFTER_COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("partition", "default"): {"from": ABSENT, "to": ABSENT},
    ("index_element", "expression"): {"column": ABSENT},
    ("function", "language"): {"body": "BEGIN RETURN p + 1; END"},
    ("procedure", "language"): {"body": "SELECT p"},
    ("aggregate", "args"): {"sfunc": "int42pl", "initcond": "0"},
    ("publication", "all_tables"): {"tables": ABSENT},
    ("aggregate", "stype"): {"sfunc": "int84pl", "initcond": "0"},
}

# $defs that are parts of a kind, not kinds: their properties are the kind's.
PART_OF = {
    "partition_by": "table.partition_by and partition.partition_by (one property each)",
    "routine_common": "function and procedure",
    "seed": "table.seed (data, not schema)",
    # document.external: declarations of unmanaged objects, never migrated (tests/external)
    **{
        name: "document.external (never migrated)"
        for name in (
            "external",
            "external_schema",
            "external_table",
            "external_function",
            "external_type",
        )
    },
}
