"""The mutation matrix's cases, generated from the JSON Schema the format ships.

For every object kind and every property its definition in `schemac.schema.json` accepts, a
case: the object as a baseline declares it, and the object with that one property changed.
The change comes from the property's JSON type (a boolean flips, an enum takes another member,
an integer grows, a comment is rewritten, a role list names the other role ...); OVERRIDES
gives the few values a generic rule cannot produce (SQL expressions, type names, references).
A property nobody can mutate makes `test_every_property_has_a_mutation` fail, so a key added
to the format is covered or noticed, never skipped.

Every copy of an object is named after its property (`tb_comment`, `c_collation`), so a
pg_dump difference or a refusal names the case it belongs to.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

SCHEMA = "m"
APP_ROLE, READER_ROLE = "mx_app", "mx_reader"


def format_schema() -> dict[str, Any]:
    text = resources.files("schemac").joinpath("data/schemac.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def resolve(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with `$ref` followed (one level at a time, keeping the ref's name)."""
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = {**root["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
        node["x-def"] = name
    return node if isinstance(node, dict) else {}


def properties(definition: str, root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every property a definition accepts, `allOf` parts included, each resolved."""
    node = root["$defs"][definition]
    found: dict[str, Any] = {}
    parts = [*node.get("allOf", []), *node.get("oneOf", []), *node.get("anyOf", []), node]
    for part in parts:
        part = resolve(part, root)
        for name, schema in part.get("properties", {}).items():
            if schema is True:
                continue  # declared by an allOf part, read there
            found[name] = schema
    return {name: resolve(schema, root) for name, schema in found.items()}


# -- generic values by JSON type ------------------------------------------------------------------

ABSENT = object()


class NoGenericMutation(Exception):
    pass


def generic_mutation(kind: Kind, schema: dict[str, Any], current: Any) -> Any:
    ref = schema.get("x-def")
    if ref == "comment":
        return "Added." if current is ABSENT else f"{current} Changed."
    if ref == "role_list":
        return [APP_ROLE] if current == [READER_ROLE] else [READER_ROLE]
    if ref == "grants":
        return (
            {READER_ROLE: [kind.privilege]} if current is ABSENT else {APP_ROLE: [kind.privilege]}
        )
    if "enum" in schema:
        members = [m for m in schema["enum"] if m != current]
        return members[-1]
    if schema.get("const") is True:
        raise NoGenericMutation("a const cannot change")
    kinds = schema.get("type")
    if kinds == "boolean":
        return True if current is ABSENT else not current
    if kinds == "integer":
        return (schema.get("minimum", 0) + 2) if current is ABSENT else current + 1
    if kinds == "number":
        return 7 if current is ABSENT else current * 2
    raise NoGenericMutation(f"no generic value for {json.dumps(schema)[:120]}")


# -- kinds: where a copy of the object lives in a project, and its baseline ----------------------


@dataclass(frozen=True)
class Kind:
    name: str  # the $defs name
    prefix: str  # copies are named <prefix>_<property>
    privilege: str  # what `grants:` on it grant
    base: Callable[[str], dict[str, Any]]  # the baseline object, given the copy's name
    place: Callable[[Project, str, dict[str, Any]], None]  # put a copy into the project


Project = dict[str, dict[str, Any]]  # file name -> YAML document


def environment() -> Project:
    """What every kind's project holds besides the copies: roles, a table, a trigger function."""
    return {
        "00_global.yaml": {
            "extensions": {"btree_gist": {"schema": "public"}},
            "roles": {APP_ROLE: {}, READER_ROLE: {}},
        },
        "01_m.yaml": {
            "schema": SCHEMA,
            "tables": {
                "host": {
                    "columns": {
                        "id": {"type": "bigint", "primary_key": True},
                        "label": {"type": "text"},
                        "n": {"type": "integer"},
                    }
                },
                "host2": {"columns": {"id": {"type": "bigint", "primary_key": True}}},
            },
            "functions": {
                "trg": {
                    "language": "plpgsql",
                    "returns": "trigger",
                    "body": "BEGIN RETURN NEW; END",
                },
                "trg2": {
                    "language": "plpgsql",
                    "returns": "trigger",
                    "body": "BEGIN RETURN NULL; END",
                },
            },
        },
    }


def _in_schema(section: str) -> Callable[[Project, str, dict[str, Any]], None]:
    def place(project: Project, name: str, obj: dict[str, Any]) -> None:
        project["01_m.yaml"].setdefault(section, {})[name] = obj

    return place


# Roles outlive the server's databases (and an external test server outlives the session), so
# the roles the matrix changes are new in every session.
ROLE_SUFFIX = f"_{os.getpid()}"


def _global(section: str) -> Callable[[Project, str, dict[str, Any]], None]:
    def place(project: Project, name: str, obj: dict[str, Any]) -> None:
        project["00_global.yaml"].setdefault(section, {})[name + ROLE_SUFFIX] = obj

    return place


def _table_part(
    section: str, *, keyed: bool, table_columns: dict[str, Any], table_extra: dict[str, Any]
) -> Callable[[Project, str, dict[str, Any]], None]:
    """Copies inside one table of their own (`<prefix>_host`): columns, indexes, triggers ..."""

    def place(project: Project, name: str, obj: dict[str, Any]) -> None:
        table_name = name.split("_", 1)[0] + "_host"
        tables = project["01_m.yaml"]["tables"]
        table = tables.setdefault(
            table_name, {"columns": copy.deepcopy(table_columns), **copy.deepcopy(table_extra)}
        )
        if keyed:
            table.setdefault(section, {})[name] = obj
        else:
            table.setdefault(section, []).append(obj)

    return place


def _place_column(project: Project, name: str, obj: dict[str, Any]) -> None:
    tables = project["01_m.yaml"]["tables"]
    table = tables.setdefault("c_host", {"columns": {"id": {"type": "bigint"}}})
    table["columns"][name] = obj


def _place_partition(project: Project, name: str, obj: dict[str, Any]) -> None:
    """Each partition under a parent of its own, partitioned as the bound needs."""
    if "in" in obj:
        strategy = "list"
    elif "modulus" in obj:
        strategy = "hash"
    else:
        strategy = "range"
    project["01_m.yaml"]["tables"][f"{name}_parent"] = {
        "columns": {"k": {"type": "integer", "not_null": True}},
        "partition_by": {"strategy": strategy, "key": ["k"]},
        "partitions": {name: obj},
    }


def _place_argument(project: Project, name: str, obj: dict[str, Any]) -> None:
    project["01_m.yaml"].setdefault("functions", {})[name] = {
        "language": "sql",
        "returns": "integer",
        "arguments": [obj],
        "body": "SELECT 1",
    }


def _place_schema(project: Project, name: str, obj: dict[str, Any]) -> None:
    project[f"02_{name}.yaml"] = obj


def _place_extension(project: Project, name: str, obj: dict[str, Any]) -> None:
    project["00_global.yaml"]["extensions"][EXTENSION_FOR[name]] = obj


EXTENSION_FOR = {"ext_schema": "pg_trgm", "ext_version": "hstore", "ext_comment": "citext"}
EXTENSION_PROPERTIES = {"schema": "ext_schema", "version": "ext_version", "comment": "ext_comment"}

KINDS: list[Kind] = [
    Kind(
        "role",
        "mr",
        "",
        lambda name: {
            "login": False,
            "inherit": True,
            "bypass_rls": False,
            "create_role": False,
            "create_db": False,
            "connection_limit": 3,
            "member_of": [READER_ROLE],
            "comment": "A role.",
        },
        _global("roles"),
    ),
    Kind("extension", "ext", "", lambda name: {"schema": "public"}, _place_extension),
    Kind("enum", "en", "usage", lambda name: {"values": ["a", "b"]}, _in_schema("enums")),
    Kind(
        "domain",
        "do",
        "usage",
        lambda name: {"type": "text", "checks": {"not_blank": "VALUE <> ''"}, "not_null": False},
        _in_schema("domains"),
    ),
    Kind(
        "sequence",
        "sq",
        "usage",
        lambda name: {"type": "bigint", "start": 1, "increment": 1, "cache": 1, "cycle": False},
        _in_schema("sequences"),
    ),
    Kind(
        "table",
        "tb",
        "select",
        lambda name: {
            "columns": {"id": {"type": "bigint", "not_null": True}, "v": {"type": "integer"}},
            "primary_key": ["id"],
        },
        _in_schema("tables"),
    ),
    Kind(
        "column",
        "c",
        "",
        lambda name: {"type": "integer", "default": "1"},
        _place_column,
    ),
    Kind(
        "index",
        "ix",
        "",
        lambda name: {"name": name, "columns": ["a"]},
        _table_part(
            "indexes",
            keyed=False,
            table_columns={"a": {"type": "integer"}, "b": {"type": "integer"}},
            table_extra={},
        ),
    ),
    Kind(
        "index_element",
        "ie",
        "",
        lambda name: {"column": "t"},
        lambda project, name, obj: _table_part(
            "indexes",
            keyed=False,
            table_columns={"t": {"type": "text"}, "a": {"type": "integer"}},
            table_extra={},
        )(project, name, {"name": name, "columns": [obj]}),
    ),
    Kind(
        "unique_constraint",
        "uq",
        "",
        lambda name: {"name": name, "columns": ["a"]},
        _table_part(
            "unique",
            keyed=False,
            table_columns={"a": {"type": "integer"}, "b": {"type": "integer"}},
            table_extra={},
        ),
    ),
    Kind(
        "foreign_key",
        "fk",
        "",
        lambda name: {"name": name, "columns": ["a"], "references": {"table": "host"}},
        _table_part(
            "foreign_keys",
            keyed=False,
            table_columns={"a": {"type": "bigint"}, "b": {"type": "bigint"}},
            table_extra={},
        ),
    ),
    Kind(
        "exclusion",
        "ex",
        "",
        lambda name: {"name": name, "using": "gist", "elements": [{"column": "a", "with": "="}]},
        _table_part(
            "exclusions",
            keyed=False,
            table_columns={"a": {"type": "integer"}, "b": {"type": "integer"}},
            table_extra={},
        ),
    ),
    Kind(
        "trigger",
        "tg",
        "",
        lambda name: {
            "timing": "before",
            "events": ["insert"],
            "for_each": "row",
            "function": "trg",
        },
        _table_part(
            "triggers",
            keyed=True,
            table_columns={"a": {"type": "integer"}},
            table_extra={},
        ),
    ),
    Kind(
        "policy",
        "po",
        "",
        lambda name: {"command": "select", "using": "true"},
        _table_part(
            "policies",
            keyed=True,
            table_columns={"a": {"type": "integer"}},
            table_extra={"row_level_security": {"enable": True}},
        ),
    ),
    Kind("partition", "pa", "", lambda name: {"from": [0], "to": [10]}, _place_partition),
    Kind(
        "view",
        "vw",
        "select",
        lambda name: {"query": "SELECT id, label FROM m.host"},
        _in_schema("views"),
    ),
    Kind(
        "materialized_view",
        "mv",
        "select",
        lambda name: {"query": "SELECT id, label FROM m.host"},
        _in_schema("materialized_views"),
    ),
    Kind(
        "function",
        "fn",
        "execute",
        lambda name: {
            "language": "sql",
            "returns": "integer",
            "arguments": [{"name": "p", "type": "integer"}],
            "volatility": "immutable",
            "body": "SELECT p + 1",
        },
        _in_schema("functions"),
    ),
    Kind(
        "column_reference",
        "cr",
        "",
        lambda name: {"table": "host"},
        lambda project, name, obj: _place_column(
            project, name, {"type": "bigint", "references": obj}
        ),
    ),
    Kind(
        "primary_key",
        "pk",
        "",
        lambda name: {"columns": ["id"]},
        lambda project, name, obj: _in_schema("tables")(
            project,
            name,
            {
                "columns": {
                    "id": {"type": "bigint", "not_null": True},
                    "v": {"type": "integer", "not_null": True},
                },
                "primary_key": obj,
            },
        ),
    ),
    Kind("argument", "fa", "", lambda name: {"name": "p", "type": "integer"}, _place_argument),
    Kind(
        "procedure",
        "pr",
        "execute",
        lambda name: {
            "language": "plpgsql",
            "arguments": [{"name": "p", "type": "integer"}],
            "body": "BEGIN PERFORM p; END",
        },
        _in_schema("procedures"),
    ),
]

# The document itself (one schema per copy): its own properties, not the collections of objects
# (those are the kinds above).
SCHEMA_KIND = Kind(
    "document",
    "sc",
    "usage",
    lambda name: {
        "schema": name,
        "tables": {"t": {"columns": {"id": {"type": "bigint"}}}},
        "sequences": {"s": {}},
        "functions": {"f": {"language": "sql", "returns": "integer", "body": "SELECT 1"}},
    },
    _place_schema,
)

# Properties that hold other kinds (covered as those kinds), or data rather than schema.
COVERED_ELSEWHERE = {
    "document": {
        "schema",
        "extensions",
        "roles",
        "enums",
        "domains",
        "sequences",
        "tables",
        "views",
        "materialized_views",
        "functions",
        "procedures",
    },
    "partition": {"to"},  # a range bound is `from` and `to` together: the `from` case
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
    ("domain", "default"): (ABSENT, "'x'"),
    ("domain", "collation"): (ABSENT, "C"),
    ("domain", "checks"): ({"not_blank": "VALUE <> ''"}, {"not_blank": "length(VALUE) > 1"}),
    ("sequence", "type"): ("bigint", "integer"),
    ("sequence", "owned_by"): (ABSENT, "host.n"),
    ("sequence", "min_value"): (ABSENT, 0),
    ("sequence", "max_value"): (ABSENT, 1000),
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
    ("column", "type"): ("integer", "bigint"),
    ("column", "default"): ("1", "2"),
    ("column", "generated"): ("id * 2", "id * 3"),
    ("column", "collation"): (ABSENT, "C"),
    ("column", "check"): (ABSENT, "c_check > 0"),
    ("column", "references"): (ABSENT, "host"),
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
}

# What a change needs besides the property itself, so that the object stays valid:
# (kind, property) -> properties set in both the baseline and the change.
COMPANIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("column", "identity"): {"type": "bigint", "not_null": True, "default": ABSENT},
    ("column", "generated"): {"type": "bigint", "default": ABSENT},
    ("column", "collation"): {"type": "text", "default": ABSENT},
    ("column", "primary_key"): {"default": ABSENT},
    ("index", "nulls_not_distinct"): {"unique": True},
    ("index", "method"): {"columns": ["a"]},
    ("index_element", "opclass"): {"column": "t"},
    ("unique_constraint", "initially_deferred"): {"deferrable": True},
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
}

# $defs that are parts of a kind, not kinds: their properties are the kind's.
PART_OF = {"routine_common": "function and procedure", "seed": "table.seed (data, not schema)"}


@dataclass(frozen=True)
class Case:
    kind: Kind
    prop: str
    name: str  # the copy's object name
    before: dict[str, Any]
    after: dict[str, Any]
    files: dict[str, str]  # extra files beside the YAML (body_file), relative to schema/

    @property
    def id(self) -> str:
        return f"{self.kind.name}.{self.prop}"

    @property
    def new_name(self) -> str:
        """The name in the changed project: a declared rename moves the object."""
        return f"{self.name}2" if self.prop == "renamed_from" else self.name


def _apply(obj: dict[str, Any], prop: str, value: Any) -> None:
    if value is ABSENT:
        obj.pop(prop, None)
    else:
        obj[prop] = copy.deepcopy(value)


def make_case(kind: Kind, prop: str, schema: dict[str, Any]) -> Case:
    name = f"{kind.prefix}_{prop}"
    if kind.name == "extension":
        name = EXTENSION_PROPERTIES[prop]
    before = kind.base(name)
    for key, value in COMPANIONS.get((kind.name, prop), {}).items():
        _apply(before, key, value)
    if (kind.name, prop) in OVERRIDES:
        old, new = OVERRIDES[(kind.name, prop)]
        _apply(before, prop, old)
    else:
        new = generic_mutation(kind, schema, before.get(prop, ABSENT))
    after = copy.deepcopy(before)
    _apply(after, prop, new)
    for key, value in AFTER_COMPANIONS.get((kind.name, prop), {}).items():
        _apply(after, key, value)
    files = {}
    if prop == "body_file":
        files[new] = after.pop("body").replace("1", "3") if "body" in after else ""
        before.setdefault("body", "SELECT 1")
    return Case(kind, prop, name, before, after, files)


def cases() -> tuple[list[Case], list[str]]:
    """Every case, and the properties no rule can mutate (each needs an OVERRIDES entry)."""
    root = format_schema()
    found = []
    missing = []
    for kind in [*KINDS, SCHEMA_KIND]:
        definition = "document" if kind is SCHEMA_KIND else kind.name
        props = (
            {n: resolve(s, root) for n, s in root["properties"].items()}
            if kind is SCHEMA_KIND
            else properties(definition, root)
        )
        for prop, schema in props.items():
            if prop in COVERED_ELSEWHERE.get(kind.name, ()):
                continue
            try:
                found.append(make_case(kind, prop, schema))
            except NoGenericMutation as error:
                missing.append(f"{kind.name}.{prop}: {error}")
    return found, missing
