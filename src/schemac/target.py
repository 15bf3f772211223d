"""Statements for the PostgreSQL version the migrations must run on (``postgres_version:``).

A shadow server newer than the target (the embedded 18 when the target's own binaries are not
on the machine) reads its catalog back with things the target does not have: the MAINTAIN
privilege (17), SET EXPRESSION (17), virtual generated columns (18), named NOT NULL
constraints (18), predefined roles of later versions. migra writes what it reads, so its
statements are read here with PostgreSQL's parser (pglast) and, for a target older than the
feature, rewritten when the target's way says the same thing, or refused naming the
statement and what to do. Statements that need no change keep their text byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import ParseError
from pglast.stream import RawStream
from pglast.visitors import Visitor

from schemac.errors import SchemacError

if TYPE_CHECKING:
    from schemac.drift import Shadows

__all__ = ["FEATURES", "NotNullNames", "TargetVersionRefused", "adapt_statements", "for_target"]

# The first major version that has each feature this module knows how to handle.
FEATURES: dict[str, int] = {
    "maintain privilege": 17,
    "set expression": 17,
    "virtual generated column": 18,
    "named not null constraint": 18,
    "role pg_checkpoint": 15,
    "role pg_create_subscription": 16,
    "role pg_use_reserved_connections": 16,
    "role pg_maintain": 17,
    "role pg_signal_autovacuum_worker": 18,
}

NotNullNames = Mapping[tuple[str, str, str], str]
"""(schema, table, constraint name) of each NOT NULL constraint -> its column (PG 18 names)."""


class TargetVersionRefused(SchemacError):
    """A statement the target PostgreSQL version would refuse and schemac cannot rewrite."""

    exit_code = 2


@dataclass(frozen=True)
class _Refusal:
    statement: str
    reason: str


def adapt_statements(
    statements: list[str],
    target: int,
    *,
    server: int,
    not_null_names: NotNullNames | None = None,
) -> list[str]:
    """``statements`` (written on a server of major version ``server``) as the ``target`` runs them.

    Raises TargetVersionRefused listing every statement that cannot be rewritten. A statement
    that becomes empty (a GRANT of MAINTAIN only, a rename of a NOT NULL constraint) is left
    out. Nothing changes when the server is not newer than the target.
    """
    if server <= target:
        return list(statements)
    names = not_null_names or {}
    adapted: list[str] = []
    refused: list[_Refusal] = []
    for text in statements:
        try:
            parsed = parse_sql(text)
        except ParseError as error:
            refused.append(_Refusal(text, f"PostgreSQL's parser rejects it ({error})"))
            continue
        pieces: list[str] = []
        cursor = 0
        changed = False
        for raw in parsed:
            if raw.stmt is None:
                continue
            start = raw.stmt_location or 0
            end = start + (raw.stmt_len or len(text) - start)
            reasons = _refusals(raw.stmt, target)
            refused += [_Refusal(text[start:end].strip(), reason) for reason in reasons]
            rewritten = _rewrite(raw.stmt, target, names)
            if rewritten is _UNCHANGED:
                continue
            changed = True
            pieces.append(text[cursor:start])
            if rewritten is None:  # dropped, with its semicolon and the line break after it
                cursor = _after_terminator(text, end)
            else:
                pieces.append(str(rewritten).strip())
                cursor = end
        if not changed:
            adapted.append(text)
            continue
        pieces.append(text[cursor:])
        result = "".join(pieces).strip()
        if any(raw.stmt is not None for raw in _parse_or_empty(result)):
            adapted.append(result)
    if refused:
        listing = "\n".join(f"  {_one_line(r.statement)}\n    {r.reason}" for r in refused)
        raise TargetVersionRefused(
            f"the migration must run on PostgreSQL {target} (postgres_version in schemac.yaml), "
            f"but the shadow server is PostgreSQL {server} and these statements have no "
            f"PostgreSQL {target} equivalent:\n{listing}\n"
            f"Install PostgreSQL {target}'s server (e.g. apt-get install postgresql-{target}) so "
            "the shadow runs the target itself, or change the YAML."
        )
    return adapted


_UNCHANGED = object()


def _rewrite(stmt: ast.Node, target: int, names: NotNullNames) -> object:
    """The statement's new text, None to drop it, or _UNCHANGED."""
    if target < FEATURES["maintain privilege"]:
        grant = stmt.action if isinstance(stmt, ast.AlterDefaultPrivilegesStmt) else stmt
        if isinstance(grant, ast.GrantStmt) and grant.privileges:
            kept = tuple(p for p in grant.privileges if p.priv_name != "maintain")
            if len(kept) != len(grant.privileges):
                if not kept:
                    return None
                grant.privileges = kept
                return RawStream()(stmt)
    if target < FEATURES["named not null constraint"]:
        return _rewrite_not_null(stmt, names)
    return _UNCHANGED


def _rewrite_not_null(stmt: ast.Node, names: NotNullNames) -> object:
    """Before 18 a NOT NULL has no constraint name: renames vanish, ADD/DROP act on the column."""
    if isinstance(stmt, ast.RenameStmt) and stmt.renameType == ObjectType.OBJECT_TABCONSTRAINT:
        table = _table_key(stmt.relation)
        if (*table, stmt.newname) in names or (*table, stmt.subname) in names:
            return None
        return _UNCHANGED
    if not isinstance(stmt, ast.AlterTableStmt) or not stmt.cmds:
        return _UNCHANGED
    table = _table_key(stmt.relation)
    commands = []
    changed = False
    for command in stmt.cmds:
        definition = command.def_
        if (
            command.subtype == AlterTableType.AT_AddConstraint
            and isinstance(definition, ast.Constraint)
            and definition.contype == ConstrType.CONSTR_NOTNULL
            and definition.keys
        ):
            column = definition.keys[0].sval
            command = ast.AlterTableCmd(subtype=AlterTableType.AT_SetNotNull, name=column)
            changed = True
        elif command.subtype == AlterTableType.AT_DropConstraint and (
            (*table, command.name) in names
        ):
            column = names[(*table, command.name)]
            command = ast.AlterTableCmd(subtype=AlterTableType.AT_DropNotNull, name=column)
            changed = True
        commands.append(command)
    if not changed:
        return _UNCHANGED
    stmt.cmds = tuple(commands)
    return RawStream()(stmt)


class _NewerFeatures(Visitor):
    """Collects, anywhere in one statement, what the target has no equivalent for."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = target
        self.reasons: list[str] = []

    def visit_Constraint(self, _ancestors: object, node: ast.Constraint) -> None:
        if (
            node.contype == ConstrType.CONSTR_GENERATED
            and node.generated_kind == "v"
            and self.target < FEATURES["virtual generated column"]
        ):
            self.reasons.append(
                f"a virtual generated column (PostgreSQL 18) does not exist in PostgreSQL "
                f"{self.target}; declare the column `stored: true` (GENERATED ... STORED)"
            )

    def visit_AlterTableCmd(self, _ancestors: object, node: ast.AlterTableCmd) -> None:
        if (
            node.subtype == AlterTableType.AT_SetExpression
            and self.target < FEATURES["set expression"]
        ):
            self.reasons.append(
                f"ALTER COLUMN {node.name} SET EXPRESSION needs PostgreSQL 17; on PostgreSQL "
                f"{self.target} a generated column's expression changes only by dropping and "
                "adding the column"
            )

    def visit_GrantRoleStmt(self, _ancestors: object, node: ast.GrantRoleStmt) -> None:
        for role in node.granted_roles or ():
            since = FEATURES.get(f"role {role.priv_name}")
            if since is not None and self.target < since:
                self.reasons.append(
                    f"the predefined role {role.priv_name} exists from PostgreSQL {since} on"
                )


def _refusals(stmt: ast.Node | None, target: int) -> list[str]:
    if stmt is None:
        return []
    finder = _NewerFeatures(target)
    finder(stmt)
    return finder.reasons


def _table_key(relation: ast.RangeVar | None) -> tuple[str, str]:
    if relation is None:
        return ("", "")
    return (relation.schemaname or "public", relation.relname or "")


def _after_terminator(text: str, end: int) -> int:
    """The offset after a statement's ``;`` and the rest of its line, if blank."""
    position = end
    while position < len(text) and text[position] in " \t":
        position += 1
    if position < len(text) and text[position] == ";":
        position += 1
    line_end = position
    while line_end < len(text) and text[line_end] in " \t":
        line_end += 1
    if line_end < len(text) and text[line_end] == "\n":
        return line_end + 1
    return position


def _parse_or_empty(text: str) -> tuple[ast.RawStmt, ...]:
    if not text:
        return ()
    try:
        return tuple(parse_sql(text))
    except ParseError:
        return ()


def _one_line(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 160 else text[:157] + "..."


_NOT_NULL_QUERY = """
    SELECT n.nspname, c.relname, k.conname, a.attname
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'n'
"""


def for_target(shadows: Shadows, statements: list[str], target: int) -> list[str]:
    """:func:`adapt_statements` for statements planned between two shadow databases."""
    major = shadows.migrations_server.version // 10000
    if major <= target:
        return statements
    names: dict[tuple[str, str, str], str] = {}
    if major >= FEATURES["named not null constraint"] > target:
        for server, database in (
            (shadows.migrations_server, shadows.migrations),
            (shadows.desired_server, shadows.desired),
        ):
            for schema, table, name, column in server.fetch(database, _NOT_NULL_QUERY):
                names[(str(schema), str(table), str(name))] = str(column)
    return adapt_statements(statements, target, server=major, not_null_names=names)
