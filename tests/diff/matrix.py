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
from dataclasses import dataclass
from importlib import resources
from typing import Any

from diff.matrix_kinds import (
    APP_ROLE,
    EXTENSION_PROPERTIES,
    KINDS,
    READER_ROLE,
    SCHEMA_KIND,
    Kind,
    environment,
)
from diff.matrix_values import (
    ABSENT,
    AFTER_COMPANIONS,
    COMPANIONS,
    COVERED_ELSEWHERE,
    OVERRIDES,
    PART_OF,
)

__all__ = ["KINDS", "PART_OF", "SCHEMA_KIND", "Case", "cases", "environment", "generic_mutation"]


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
