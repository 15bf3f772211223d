"""Every field of a schema file that reaches SQL, parsed for what it is, at its YAML position.

SQL fields (defaults, checks, `where`, `using`, `with_check`, generated expressions, trigger
conditions, index and partition expressions, view queries, SQL-language bodies) must parse
as PostgreSQL parses them; a syntax error is reported at the line and column inside the YAML
scalar where PostgreSQL's parser stopped. Typed fields (type names, `set:` keys, index
`with:` parameters, exclusion operators) must be exactly one of what they are. Run on the
documents before the model is built, so positions are those of the YAML itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.loader import Document, LocatedDict, LocatedList
from schemac.positions import value_offset_location
from schemac.sql.parse import SqlError, expression_error, query_error, statements_error
from schemac.sql.parse import type_name_error as _type_name_error
from schemac.sql.typed import (
    operator_error,
    plain_name_error,
    setting_name_error,
    storage_value_sql,
)

TYPE_HINT = "one type name, with optional modifiers and array bounds: varchar(200), numeric(10,2), app.mood[]"
_COLUMN_SQL = (("default", "default"), ("generated", "generated expression"), ("check", "check"))
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
                f"{what} is not one type name ('{_short(value)}'): {error.message}",
                (holder, key),
                error.offset,
                TYPE_HINT,
            )

    # -- the document, object by object ------------------------------------------------------

    def document(self, data: Any) -> None:
        if not isinstance(data, LocatedDict):
            return
        for name, domain in _items(data.get("domains")):
            self.type(domain, "type", f"the type of domain '{name}'")
            self.sql(domain, "default", f"the default of domain '{name}'")
            for check_name, _ in _items(domain.get("checks"), dicts_only=False):
                self.sql(domain["checks"], check_name, f"check '{check_name}' of domain '{name}'")
        for name, table in _items(data.get("tables")):
            self.table(name, table)
        for key in ("views", "materialized_views"):
            for name, view in _items(data.get(key)):
                self.sql(view, "query", f"the query of view '{name}'", query_error)
                for i, index in _enumerated(view.get("indexes")):
                    self.index(f"index {i + 1} of '{name}'", index)
        for key in ("functions", "procedures"):
            for name, routine in _items(data.get(key)):
                self.routine(name, routine, is_procedure=key == "procedures")

    def table(self, name: str, table: LocatedDict) -> None:
        for column_name, column in _items(table.get("columns")):
            what = f"column '{column_name}'"
            self.type(column, "type", f"the type of {what}")
            for key, label in _COLUMN_SQL:
                if key in column:  # most columns have none: the common case costs one lookup
                    self.sql(column, key, f"the {label} of {what}")
            if isinstance(column.get("generated"), LocatedDict):  # {expression:, stored:}
                self.sql(column["generated"], "expression", f"the generated expression of {what}")
        for check_name, check in _items(table.get("checks"), dicts_only=False):
            self.sql(table["checks"], check_name, f"check '{check_name}' of '{name}'")
            if isinstance(check, LocatedDict):  # {expression:, comment:}
                self.sql(check, "expression", f"check '{check_name}' of '{name}'")
        for i, exclusion in _enumerated(table.get("exclusions")):
            what = f"exclusion {i + 1} of '{name}'"
            self.sql(exclusion, "where", f"the where of {what}")
            for j, element in _enumerated(exclusion.get("elements")):
                self.sql(element, "expression", f"element {j + 1} of {what}")
                self.operator(element, f"element {j + 1} of {what}")
        for i, index in _enumerated(table.get("indexes")):
            self.index(f"index {i + 1} of '{name}'", index)
        for trigger_name, trigger in _items(table.get("triggers")):
            self.sql(trigger, "when", f"the when of trigger '{trigger_name}'")
        for policy_name, policy in _items(table.get("policies")):
            self.sql(policy, "using", f"the using of policy '{policy_name}'")
            self.sql(policy, "with_check", f"the with_check of policy '{policy_name}'")
        spec = table.get("partition_by")
        keys = spec.get("key") if isinstance(spec, LocatedDict) else None
        for i, key in _enumerated(keys, dicts_only=False):
            if isinstance(key, str) and plain_name_error(key) is not None:
                self.sql(keys, i, f"partition key {i + 1} of '{name}'")
        for part_name, part in _items(table.get("partitions")):
            self.table(part_name, part)  # a partition's own checks, indexes, partition key

    def index(self, what: str, index: LocatedDict) -> None:
        self.sql(index, "where", f"the where of {what}")
        for j, element in _enumerated(index.get("columns")):
            self.sql(element, "expression", f"element {j + 1} of {what}")
        storage: Any = index.get("with")
        for key, value in _items(storage, dicts_only=False):
            if plain_name_error(key) is not None:
                self.report(
                    "E318",
                    f"'{_short(key)}' in the with: of {what} is not a storage parameter name",
                    (storage, ("key", key)),
                    0,
                    "a storage parameter is a lower-case name: fillfactor, fastupdate, ...",
                )
            elif storage_value_sql(value) is None:
                self.report(
                    "E318",
                    f"the value of {key} in the with: of {what} is not a number, boolean or word",
                    (storage, key),
                    0,
                    "write a number (70), a boolean (false) or a single word (auto)",
                )

    def operator(self, element: LocatedDict, what: str) -> None:
        value = _value(element, "with")
        if not isinstance(value, str):
            return
        error = operator_error(value)
        if error is not None:
            self.report(
                "E319",
                f"the operator of {what} ('{_short(value)}') is not one operator: {error.message}",
                (element, "with"),
                error.offset,
                "an operator such as =, && or OPERATOR(pg_catalog.&&)",
            )

    def routine(self, name: str, routine: LocatedDict, is_procedure: bool) -> None:
        kind = "procedure" if is_procedure else "function"
        for i, argument in _enumerated(routine.get("arguments")):
            what = f"argument {i + 1} of {kind} '{name}'"
            self.type(argument, "type", f"the type of {what}")
            self.sql(argument, "default", f"the default of {what}")
        returns = routine.get("returns")
        if isinstance(returns, str):
            self.type(routine, "returns", f"the return type of {kind} '{name}'", returns=True)
        elif isinstance(returns, LocatedDict):
            for column, _ in _items(returns.get("table"), dicts_only=False):
                self.type(
                    returns["table"], column, f"the type of column '{column}' returned by '{name}'"
                )
        settings: Any = routine.get("set")
        for key, _ in _items(settings, dicts_only=False):
            error = setting_name_error(key)
            if error is not None:
                self.report(
                    "E317",
                    f"'{_short(key)}' in the set: of {kind} '{name}' is not a setting name: {error.message}",
                    (settings, ("key", key)),
                    0,
                    "a configuration parameter name: search_path, work_mem, or extension.name",
                )
        language = routine.get("language", "plpgsql" if is_procedure else "sql")
        if language == "sql":
            self.sql(routine, "body", f"the body of {kind} '{name}'", statements_error)


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


def _items(value: Any, dicts_only: bool = True) -> Iterator[tuple[str, Any]]:
    if isinstance(value, LocatedDict):
        for key, item in value.items():
            if not dicts_only or isinstance(item, LocatedDict):
                yield key, item


def _enumerated(value: Any, dicts_only: bool = True) -> Iterator[tuple[int, Any]]:
    """Items of a list; only mappings unless asked (a document the JSON Schema has not seen
    yet may hold anything where a mapping belongs)."""
    if isinstance(value, LocatedList):
        for i, item in enumerate(value):
            if not dicts_only or isinstance(item, LocatedDict):
                yield i, item


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 60 else one_line[:57] + "..."


def check_documents(documents: list[Document]) -> list[Diagnostic]:
    checker = FieldChecker()
    for document in documents:
        checker.document(document.data)
    return checker.diagnostics
