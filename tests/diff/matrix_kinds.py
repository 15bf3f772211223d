"""The object kinds of the mutation matrix: where a copy of each lives in a small project,
and the baseline it starts from (see matrix.py)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCHEMA = "m"
APP_ROLE, READER_ROLE = "mx_app", "mx_reader"


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


def _place_default_privileges(project: Project, name: str, obj: dict[str, Any]) -> None:
    """IN SCHEMA a schema of each copy's own (default privileges are keyed by role and schema)."""
    project[f"02_{name}.yaml"] = {"schema": name, "default_privileges": obj}


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
        "composite_type",
        "ct",
        "usage",
        lambda name: {"attributes": {"a": "integer"}},
        _in_schema("composite_types"),
    ),
    Kind(
        "range_type",
        "rg",
        "usage",
        lambda name: {"subtype": "text"},
        _in_schema("range_types"),
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
    Kind("partition", "pa", "select", lambda name: {"from": [0], "to": [10]}, _place_partition),
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
        "aggregate",
        "ag",
        "execute",
        lambda name: {"args": ["integer"], "sfunc": "int4pl", "stype": "integer"},
        _in_schema("aggregates"),
    ),
    Kind(
        "publication",
        "pb",
        "",
        lambda name: {"tables": ["host"]},
        _in_schema("publications"),
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
    # A column's long forms: identity options and a generated column's expression and kind.
    Kind(
        "identity",
        "id",
        "",
        lambda name: {"generated": "always"},
        lambda project, name, obj: _place_column(
            project, name, {"type": "bigint", "identity": obj}
        ),
    ),
    Kind(
        "generated_column",
        "gc",
        "",
        lambda name: {"expression": "id * 2"},
        lambda project, name, obj: _place_column(
            project, name, {"type": "bigint", "generated": obj}
        ),
    ),
    Kind(
        "table_check",
        "tc",
        "",
        lambda name: {"expression": "a > 0"},
        _table_part("checks", keyed=True, table_columns={"a": {"type": "integer"}}, table_extra={}),
    ),
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

KINDS.append(
    Kind(
        "default_privileges",
        "dp",
        "select",
        lambda name: {"tables": {READER_ROLE: ["select"]}},
        _place_default_privileges,
    )
)

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
