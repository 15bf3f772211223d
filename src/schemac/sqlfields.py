"""Every field of a schema file that reaches SQL, parsed for what it is, at its YAML position.

SQL fields (defaults, checks, `where`, `using`, `with_check`, generated expressions, trigger
conditions, index and partition expressions, view queries, SQL-language bodies) must parse
as PostgreSQL parses them; a syntax error is reported at the line and column inside the YAML
scalar where PostgreSQL's parser stopped. Typed fields (type names, `set:` keys, index
`with:` parameters, exclusion operators) must be exactly one of what they are. Run on the
documents before the model is built, so positions are those of the YAML itself.

This module holds the checks (`FieldChecker`); which fields each kind has is declared by the
kind (`Kind.fields`, in its module under kinds/), and `document` runs them in registry order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.loader import Document, LocatedDict, LocatedList
from schemac.positions import value_offset_location
from schemac.sql.parse import SqlError, expression_error, statements_error
from schemac.sql.parse import type_name_error as _type_name_error
from schemac.sql.typed import operator_error

if TYPE_CHECKING:
    from schemac.kinds.registry import FieldStep

TYPE_HINT = "one type name, with optional modifiers and array bounds: varchar(200), numeric(10,2), app.mood[]"
SQL_HINT = "this field is SQL, passed to PostgreSQL as written: fix it where the parser stopped"


def _type_error(text: str) -> SqlError | None:
    return _type_name_error(text)


def _returns_error(text: str) -> SqlError | None:
    return _type_name_error(text, allow_setof=True)


class FieldChecker:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, message: str, at: Any, offset: int, hint: str) -> None:
        """`at` is (holder, key): positions are looked up only for an error, because asking a
        mapping for them makes the loader work them out for all its keys."""
        loc = _location(*at)
        if loc is not None and offset:
            loc = value_offset_location(loc, offset)
        self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def sql(
        self,
        holder: Any,
        key: str | int,
        what: str,
        check: Callable[[str], SqlError | None] = expression_error,
    ) -> None:
        """The SQL text at holder[key] (a mapping key or a list index), if it is a string."""
        value = _value(holder, key)
        if not isinstance(value, str):
            return
        error = check(value)
        if error is not None:
            message = f"{what} is not valid SQL: {error.message}"
            self.report("E315", message, (holder, key), error.offset, SQL_HINT)

    def type(self, holder: Any, key: str | int, what: str, *, returns: bool = False) -> None:
        value = _value(holder, key)
        if not isinstance(value, str):
            return
        error = (_returns_error if returns else _type_error)(value)
        if error is not None:
            self.report(
                "E310",
                f"{what} is not one type name ('{short(value)}'): {error.message}",
                (holder, key),
                error.offset,
                TYPE_HINT,
            )

    # -- the document, kind by kind ----------------------------------------------------------

    def document(self, data: Any) -> None:
        """Each kind's fields (`Kind.fields`), in the registry's order."""
        if not isinstance(data, LocatedDict):
            return
        for step in _field_steps():
            step(self, data)

    def operator(self, element: LocatedDict, what: str) -> None:
        value = _value(element, "with")
        if not isinstance(value, str):
            return
        error = operator_error(value)
        if error is not None:
            self.report(
                "E319",
                f"the operator of {what} ('{short(value)}') is not one operator: {error.message}",
                (element, "with"),
                error.offset,
                "an operator such as =, && or OPERATOR(pg_catalog.&&)",
            )


@cache
def _field_steps() -> tuple[FieldStep, ...]:
    # Imported here: the kinds' modules import this one for FieldChecker and its helpers.
    from schemac.kinds import KINDS

    return tuple(kind.fields for kind in KINDS if kind.fields is not None)


def check_body_file(text: str, path: Any, what: str) -> Diagnostic | None:
    """A SQL-language body read from a file: the error at its line and column in that file."""
    error = statements_error(text)
    if error is None:
        return None
    before = text[: error.offset]
    line = before.count("\n") + 1
    column = error.offset - (before.rfind("\n") + 1) + 1
    return Diagnostic(
        "E315",
        f"{what} is not valid SQL: {error.message}",
        SourceLocation(path, line, column),
        SQL_HINT,
    )


def _value(holder: Any, key: str | int) -> Any:
    if isinstance(holder, LocatedDict) and isinstance(key, str):
        return holder.get(key)
    if isinstance(holder, LocatedList) and isinstance(key, int):
        return holder[key]
    return None


def _location(holder: Any, key: str | int | tuple[str, str]) -> SourceLocation | None:
    """Where holder[key] is (its value); ("key", name) asks for the key itself."""
    if isinstance(key, tuple):
        return holder.key_locations.get(key[1]) if isinstance(holder, LocatedDict) else None
    if isinstance(holder, LocatedDict) and isinstance(key, str):
        return holder.value_locations.get(key)
    if isinstance(holder, LocatedList) and isinstance(key, int):
        return holder.item_locations[key]
    return None


def items(value: Any, dicts_only: bool = True) -> Iterator[tuple[str, Any]]:
    if isinstance(value, LocatedDict):
        for key, item in value.items():
            if not dicts_only or isinstance(item, LocatedDict):
                yield key, item


def enumerated(value: Any, dicts_only: bool = True) -> Iterator[tuple[int, Any]]:
    """Items of a list; only mappings unless asked (a document the JSON Schema has not seen
    yet may hold anything where a mapping belongs)."""
    if isinstance(value, LocatedList):
        for i, item in enumerate(value):
            if not dicts_only or isinstance(item, LocatedDict):
                yield i, item


def short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 60 else one_line[:57] + "..."


def check_documents(documents: list[Document]) -> list[Diagnostic]:
    checker = FieldChecker()
    for document in documents:
        checker.document(document.data)
    return checker.diagnostics
