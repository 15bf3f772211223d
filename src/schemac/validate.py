"""Stage 2, validate: every document against the shipped JSON Schema, every error located."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.loader import Document, LocatedDict, LocatedList

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid document
    import jsonschema
    from jsonschema.exceptions import ValidationError

_UNEXPECTED = re.compile(r"'([^']*)' (?:was|were) unexpected")
_UNEXPECTED_MANY = re.compile(r"\(([^)]*)\s+(?:was|were) unexpected\)")


@cache
def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a schemac YAML document."""
    text = (
        resources.files("schemac").joinpath("data/schemac.schema.json").read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _inline_references(
    node: Any, definitions: dict[str, Any], expanding: tuple[str, ...] = ()
) -> Any:
    """The schema with every $ref replaced by its target, except a definition's reference to
    itself (a partition's `partitions:`), which stays a $ref into the kept `$defs`.

    Resolving references dominates jsonschema's run time; validating against the inlined
    copy gives the same errors about twice as fast.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in expanding:
                return node
            target = _inline_references(definitions[name], definitions, (*expanding, name))
            rest = {
                k: _inline_references(v, definitions, expanding)
                for k, v in node.items()
                if k != "$ref"
            }
            return {"allOf": [target], **rest} if rest else target
        return {
            k: _inline_references(v, definitions, expanding)
            for k, v in node.items()
            if k != "$defs"
        }
    if isinstance(node, list):
        return [_inline_references(item, definitions, expanding) for item in node]
    return node


@cache
def _inlined_schema() -> dict[str, Any]:
    schema = json_schema()
    inlined: dict[str, Any] = _inline_references(schema, schema["$defs"])
    inlined["$defs"] = schema["$defs"]  # for the recursive references left in place
    return inlined


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(_inlined_schema())


@cache
def _quick_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(json_schema())


def surely_valid(data: Any) -> bool:
    """A yes from jsonschema-rs (compiled Rust, ~30x faster than jsonschema) is final. Its no, or
    a value it cannot take (YAML's binary and sets), goes to jsonschema, whose explanations are
    what the author reads; where the two differ (Python's `$` also matches before a final
    newline), jsonschema decides."""
    try:
        return _quick_validator().is_valid(data)
    except ValueError:
        return False


def validate_documents(documents: Iterable[Document]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for document in documents:
        diagnostics.extend(validate_document(document))
    return diagnostics


def validate_document(document: Document) -> list[Diagnostic]:
    if document.data is None:
        return [
            Diagnostic(
                "E200",
                "the file is empty",
                SourceLocation(document.path, 1, 1),
                hint="a schema file starts with 'schema: <name>'",
            )
        ]
    if surely_valid(document.data):
        return []
    found: list[Diagnostic] = []
    for error in _validator().iter_errors(document.data):
        found.extend(_to_diagnostics(document, error))
    # Unique and sorted, so the same input always prints the same report.
    return sorted(set(found), key=Diagnostic.sort_key)


def locate(document: Document, path: Iterable[Any]) -> SourceLocation:
    """The source position of the value at `path` (keys and indexes) in a document."""
    node: Any = document.data
    location = SourceLocation(document.path, 1, 1)
    if isinstance(node, (LocatedDict, LocatedList)):
        location = node.location
    for step in path:
        if isinstance(node, LocatedDict) and isinstance(step, str) and step in node:
            location = node.value_locations[step]
            node = node[step]
        elif isinstance(node, LocatedList) and isinstance(step, int) and step < len(node):
            location = node.item_locations[step]
            node = node[step]
        else:
            break
    return location


def _key_location(document: Document, path: Iterable[Any], key: str) -> SourceLocation:
    node: Any = document.data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return locate(document, path)
    if isinstance(node, LocatedDict) and key in node.key_locations:
        return node.key_locations[key]
    return locate(document, path)


def _to_diagnostics(document: Document, error: ValidationError) -> Iterator[Diagnostic]:
    path = list(error.absolute_path)
    if error.validator in ("oneOf", "anyOf") and error.context:
        yield from _explain_alternatives(document, error)
        return
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(error.schema)
        for key in _unexpected_keys(error.message):
            yield Diagnostic(
                "E103",
                f"unknown key '{key}'",
                _key_location(document, path, key),
                hint=did_you_mean(key, allowed)
                or (f"allowed keys: {', '.join(sorted(allowed))}" if allowed else None),
            )
        return
    if error.validator == "propertyNames" or (
        error.validator in ("pattern", "minLength") and "propertyNames" in error.schema_path
    ):  # jsonschema reports a bad key as the pattern its propertyNames failed: E104 at the key
        bad = error.instance
        yield Diagnostic(
            "E104",
            f"{_short(bad)} is not a valid name: a PostgreSQL name is not empty and has no NUL character",
            _key_location(document, path, str(bad)),
        )
        return
    yield Diagnostic("E105", _message(error), locate(document, path))


def _explain_alternatives(document: Document, error: ValidationError) -> Iterator[Diagnostic]:
    # A oneOf that failed: report the alternative that got furthest, not every branch.
    path = list(error.absolute_path)
    instance = error.instance
    branches = [e for e in error.context or [] if e.validator != "type"] or list(
        error.context or []
    )
    if isinstance(instance, dict):
        branches = [
            e for e in branches if e.validator != "required" or len(error.context or []) == 1
        ] or branches
        # A mapping never matches a branch of scalars (`identity: always` beside its long form).
        branches = [e for e in branches if e.validator != "enum" or e.path] or branches
    from jsonschema.exceptions import best_match

    best = best_match(branches) if branches else None
    if best is None or (best.validator == "required" and isinstance(instance, dict)):
        yield Diagnostic("E105", _shape_message(error), locate(document, path))
        return
    yield from _to_diagnostics(document, best)


def _shape_message(error: ValidationError) -> str:
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    description = schema.get("description")
    base = f"{_short(error.instance)} does not have any of the accepted forms"
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        options = [
            sorted(s.get("required", [])) for s in schema.get("oneOf", []) if isinstance(s, dict)
        ]
        options = [o for o in options if o]
        if options:
            return "give exactly one of: " + " | ".join(", ".join(o) for o in options)
    return f"{base}{f' ({description})' if description else ''}"


def _message(error: ValidationError) -> str:
    v = error.validator
    instance = error.instance
    value: Any = error.validator_value
    if v == "type":
        expected = value
        names = expected if isinstance(expected, list) else [expected]
        return f"expected {' or '.join(_type_name(n) for n in names)}, got {_describe(instance)}"
    if v == "enum":
        options = ", ".join(str(o) for o in value)
        hint = did_you_mean(str(instance), [str(o) for o in value])
        return f"{_short(instance)} is not one of: {options}" + (f"; {hint}" if hint else "")
    if v == "required":
        missing = _UNEXPECTED.findall(error.message) or [error.message.split("'")[1]]
        return f"missing required key '{missing[0]}'"
    if v == "pattern":
        return (
            f"{_short(instance)} is not a valid name here: a PostgreSQL name has no NUL character"
        )
    if v == "minItems":
        return "the list must not be empty"
    if v == "uniqueItems":
        return "the list has the same item twice"
    if v == "minProperties":
        return "the mapping must not be empty"
    if v == "const":
        return f"expected {error.validator_value!r}, got {_short(instance)}"
    if v in ("minimum", "maximum"):
        return f"{instance} is out of range ({v} {error.validator_value})"
    if v == "minLength":
        return "the value must not be empty"
    if v == "not" and isinstance(value, dict) and "const" in value:
        return f"{_short(instance)} is not allowed here"
    return str(error.message)


def _type_name(name: str) -> str:
    return {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "null": "nothing",
    }.get(name, name)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (int, float)):
        return f"number {value}"
    return f"string {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _unexpected_keys(message: str) -> list[str]:
    inner = _UNEXPECTED_MANY.search(message)
    if inner:
        return re.findall(r"'([^']*)'", inner.group(1))
    return _UNEXPECTED.findall(message)


def _allowed_keys(schema: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(schema, dict):
        keys.update(schema.get("properties", {}).keys())
        for sub in schema.get("allOf", []):
            keys |= _allowed_keys(sub)
    return keys
