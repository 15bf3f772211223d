"""Names and type names as a person writes them in schemac YAML."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pglast import parse_sql
from pglast.parser import ParseError, parse_sql_json
from pglast.stream import RawStream

from schemac import model as m
from schemac.naming import MAX_IDENTIFIER_BYTES
from schemac.sql.parse import SqlSyntaxError, parse_type_name

# The identifiers the YAML format accepts (the JSON Schema's `identifier`).
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")

# The built-in types PostgreSQL spells in words (format_type: `timestamp(3) with time zone`),
# by their internal name, as the docs teach them: written with the modifiers and bounds.
_SHORT_TYPES = {
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "timetz": "timetz",
    "time": "time",
    "varchar": "varchar",
    "varbit": "varbit",
    "bpchar": "char",
}


def statement(text: str) -> Any:
    """The parse tree of one SQL statement PostgreSQL printed (a definition, a bound)."""
    return parse_sql(text)[0].stmt


def printed(node: Any) -> str:
    """A parse tree node printed back as SQL."""
    return str(RawStream()(node))


def _tree(text: str) -> Any:
    """The parse tree of ``SELECT <text>`` as plain data, without source positions."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("location", "stmt_len")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(json.loads(parse_sql_json("SELECT " + text)))


def bare_expression(text: str) -> str:
    """An expression without the parentheses PostgreSQL puts around a whole printed expression
    (``(points > 0)`` -> ``points > 0``), when the parser reads both as the same tree."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    try:
        same = _tree(text[1:-1]) == _tree(text)
    except ParseError:
        return text
    return text[1:-1] if same else text


def sql_value(text: str) -> Any:
    """A default as the YAML writes it: ``0`` and ``true`` as YAML scalars, the rest as SQL."""
    if text in ("true", "false"):
        return text == "true"
    if text.isdigit() and str(int(text)) == text:
        return int(text)
    return text


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name)) and len(name.encode()) <= MAX_IDENTIFIER_BYTES


@dataclass
class NameCheck:
    """What import refuses (`refused`, listed before anything is written). Names are not among
    it: the YAML holds every name PostgreSQL does (quoted, upper case, non-ASCII), so `check`
    only refuses one longer than PostgreSQL's 63 bytes, which a catalog never holds."""

    refused: list[str] = field(default_factory=list)

    def check(self, what: str, *names: str) -> None:
        for name in names:
            if len(name.encode()) > MAX_IDENTIFIER_BYTES:
                self.refused.append(f"{what}: {name!r}")


def unquote_ident(text: str) -> str:
    """An identifier as PostgreSQL prints it (``"position"``, ``"Mixed"``) -> the name itself."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def relative(qname: m.QName, schema: str) -> str:
    """``name`` inside its own schema, ``schema.name`` from another one, in SQL's syntax as
    the YAML's references are (``"My Schema"."UserProfiles"``)."""
    return reference_part(qname.name) if qname.schema == schema else qualified_reference(qname)


def qualified_reference(qname: m.QName) -> str:
    """``schema.name`` in SQL's syntax, as the YAML's references are (``"app.v2"."t"``)."""
    return f"{reference_part(qname.schema)}.{reference_part(qname.name)}"


def reference_part(name: str) -> str:
    """One part of a reference: as it is when lower case, else in double quotes."""
    return name if _IDENTIFIER.fullmatch(name) else '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class TypeNames:
    """Which qualified type names may be written bare.

    ``local``: the types a schema declares, enums, domains, composite types (its own are
    written bare inside it, and schemac qualifies them again); ``extension``: each type an
    extension brings, with the schema it lives in (written bare, as the YAML names extension
    types).
    """

    local: frozenset[tuple[str, str]] = frozenset()
    extension: tuple[tuple[str, str], ...] = ()

    def bare_ok(self, qualifier: str, name: str, schema: str) -> bool:
        if qualifier == schema and (qualifier, name) in self.local:
            return True
        return (name, qualifier) in self.extension


def short_type(type_text: str, schema: str, names: TypeNames) -> str:
    """A type as format_type prints it, written the short way and relative to ``schema``."""
    try:
        parsed = parse_type_name(type_text)
    except SqlSyntaxError:
        return type_text
    internal = parsed.catalog_name
    if parsed.schema is None and len(internal) == 2 and internal[0] == "pg_catalog":
        short = _SHORT_TYPES.get(internal[1])
        # A bare `character` is char(1) to the parser: written as PostgreSQL printed it.
        if short is not None and not (short == "char" and "(" not in type_text):
            return short + parsed.suffix
        return type_text
    if (
        parsed.schema is not None
        and is_identifier(parsed.schema)
        and is_identifier(parsed.name)
        and names.bare_ok(parsed.schema, parsed.name, schema)
    ):
        return parsed.name + parsed.rest
    return type_text
