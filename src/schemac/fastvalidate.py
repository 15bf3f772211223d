"""A yes/no validator compiled from the format's JSON Schema, for the common case: valid input.

jsonschema explains every error well but walks the schema slowly (about a second per
thousand tables). Valid projects only need a yes, so the schema is compiled once into nested
closures that answer it many times faster; when the answer is no, validate.py asks jsonschema
for the full, located explanation. The compiler knows exactly the keywords the format uses
and refuses any other, so the two can never disagree about a valid document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "$comment", "default", "examples"}
)


class UnsupportedKeyword(Exception):
    """The schema uses a keyword this compiler does not implement: use jsonschema alone."""


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise UnsupportedKeyword(f"type {name}")


def _same(a: Any, b: Any) -> bool:
    # JSON Schema equality: true is not 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _evaluated_names(schema: Any) -> set[str]:
    """Property names a schema evaluates through `properties` and nested `allOf` (for unevaluatedProperties)."""
    if not isinstance(schema, dict):
        return set()
    for keyword in (
        "anyOf",
        "oneOf",
        "if",
        "dependentSchemas",
        "patternProperties",
        "additionalProperties",
    ):
        branches = schema.get(keyword)
        if branches and any(
            isinstance(b, dict) and "properties" in b
            for b in (branches if isinstance(branches, list) else [branches])
        ):
            raise UnsupportedKeyword(f"unevaluatedProperties with properties under {keyword}")
    names = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        names |= _evaluated_names(sub)
    return names


def compile_schema(schema: Any) -> Check:
    """A function telling whether a value is valid against `schema` (with every $ref inlined)."""
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise UnsupportedKeyword(repr(schema))
    checks: list[Check] = []
    keys = set(schema) - _ANNOTATIONS
    if "type" in keys:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        for name in types:
            _is_type(None, name)  # refuses unknown type names now, not while validating
        checks.append(_one_of_types(types))
    if "enum" in keys:
        checks.append(_member_of(list(schema["enum"])))
    if "const" in keys:
        checks.append(_member_of([schema["const"]]))
    if "pattern" in keys:
        checks.append(_matches(re.compile(schema["pattern"])))
    if "minLength" in keys:
        checks.append(_at_least_chars(int(schema["minLength"])))
    if "minimum" in keys:
        checks.append(_at_least(schema["minimum"]))
    checks.extend(_object_checks(schema, keys))
    checks.extend(_array_checks(schema, keys))
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in keys:
            checks.append(_combine(keyword, [compile_schema(sub) for sub in schema[keyword]]))
    handled = {
        "type",
        "enum",
        "const",
        "pattern",
        "minLength",
        "minimum",
        "allOf",
        "anyOf",
        "oneOf",
        "properties",
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
        "required",
        "minProperties",
        "items",
        "minItems",
        "uniqueItems",
    }
    unknown = keys - handled
    if unknown:
        raise UnsupportedKeyword(", ".join(sorted(unknown)))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _one_of_types(types: list[str]) -> Check:
    return lambda v: any(_is_type(v, t) for t in types)


def _member_of(options: list[Any]) -> Check:
    return lambda v: any(_same(v, o) for o in options)


def _matches(regex: re.Pattern[str]) -> Check:
    return lambda v: not isinstance(v, str) or regex.search(v) is not None


def _at_least_chars(length: int) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= length


def _at_least(low: float) -> Check:
    return lambda v: not _is_type(v, "number") or v >= low


def _combine(keyword: str, branches: list[Check]) -> Check:
    if keyword == "allOf":
        return lambda v: all(check(v) for check in branches)
    if keyword == "anyOf":
        return lambda v: any(check(v) for check in branches)
    return lambda v: sum(1 for check in branches if check(v)) == 1


def _object_checks(schema: dict[str, Any], keys: set[str]) -> list[Check]:
    checks: list[Check] = []
    properties = {name: compile_schema(s) for name, s in schema.get("properties", {}).items()}
    additional = schema.get("additionalProperties", True)
    extra = compile_schema(additional) if "additionalProperties" in keys else None
    if properties or extra is not None:

        def check_properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, item in v.items():
                rule = properties.get(name)
                if rule is not None:
                    if not rule(item):
                        return False
                elif extra is not None and not extra(item):
                    return False
            return True

        checks.append(check_properties)
    if "unevaluatedProperties" in keys:
        if schema["unevaluatedProperties"] is not False or "additionalProperties" in keys:
            raise UnsupportedKeyword("unevaluatedProperties other than false")
        evaluated = frozenset(_evaluated_names(schema))
        checks.append(lambda v: not isinstance(v, dict) or all(k in evaluated for k in v))
    if "propertyNames" in keys:
        names = compile_schema(schema["propertyNames"])
        checks.append(lambda v: not isinstance(v, dict) or all(names(k) for k in v))
    if "required" in keys:
        required = tuple(schema["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
    if "minProperties" in keys:
        least = schema["minProperties"]
        checks.append(lambda v: not isinstance(v, dict) or len(v) >= least)
    return checks


def _array_checks(schema: dict[str, Any], keys: set[str]) -> list[Check]:
    checks: list[Check] = []
    if "items" in keys:
        item = compile_schema(schema["items"])
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    if "minItems" in keys:
        least = schema["minItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) >= least)
    if schema.get("uniqueItems") is True:
        checks.append(lambda v: not isinstance(v, list) or _all_distinct(v))
    return checks


def _all_distinct(items: list[Any]) -> bool:
    # Python's == merges 1 and True where JSON does not; saying "not unique" too often only
    # sends the document to jsonschema, which decides.
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a == b:
                return False
    return True
