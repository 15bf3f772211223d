"""What a statement does, from its parse tree: for the diff side's plans and messages.

Its kind (`alter table`, `drop index`, `grant`, ...), the object it targets as schema and
name, the table a trigger, policy or constraint belongs to, every ALTER TABLE sub-command
with its action and column or constraint, and why it loses data when it does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pglast import ast, enums, parse_sql, parser

from schemac.naming import label_part, member_label
from schemac.sql.parse import SqlError, SqlSyntaxError
from schemac.sql.subcommands import SubCommand, alter_table_subcommands

__all__ = ["Classified", "SubCommand", "classify", "describe", "is_destructive"]

_OBJECT_KIND = {
    enums.ObjectType.OBJECT_TABLE: "table",
    enums.ObjectType.OBJECT_VIEW: "view",
    enums.ObjectType.OBJECT_MATVIEW: "materialized view",
    enums.ObjectType.OBJECT_INDEX: "index",
    enums.ObjectType.OBJECT_SEQUENCE: "sequence",
    enums.ObjectType.OBJECT_TYPE: "type",
    enums.ObjectType.OBJECT_DOMAIN: "domain",
    enums.ObjectType.OBJECT_FUNCTION: "function",
    enums.ObjectType.OBJECT_PROCEDURE: "procedure",
    enums.ObjectType.OBJECT_ROUTINE: "routine",
    enums.ObjectType.OBJECT_SCHEMA: "schema",
    enums.ObjectType.OBJECT_EXTENSION: "extension",
    enums.ObjectType.OBJECT_TRIGGER: "trigger",
    enums.ObjectType.OBJECT_POLICY: "policy",
    enums.ObjectType.OBJECT_COLUMN: "column",
    enums.ObjectType.OBJECT_TABCONSTRAINT: "constraint",
    enums.ObjectType.OBJECT_ROLE: "role",
    enums.ObjectType.OBJECT_FOREIGN_TABLE: "foreign table",
    enums.ObjectType.OBJECT_COLLATION: "collation",
}


@dataclass(frozen=True)
class Classified:
    kind: str  # "create table", "alter table", "drop index", "grant", "comment on", ...
    object_kind: str | None  # "table", "view", "function", ...
    schema: str | None
    name: str | None
    subcommands: tuple[SubCommand, ...] = ()
    member_of: tuple[str | None, str] | None = None  # the table of a trigger/policy/constraint
    destructive: tuple[str, ...] = ()  # why the statement loses data; empty when it does not
    concurrent: bool = False  # CREATE/DROP INDEX, REINDEX, REFRESH ... CONCURRENTLY
    version: str | None = None  # ALTER EXTENSION ... UPDATE TO <version>

    @property
    def qualified(self) -> str:
        return ".".join(p for p in (self.schema, self.name) if p)


def _names(items: Any) -> tuple[str | None, str]:
    names = [n.sval for n in items]
    return (names[-2] if len(names) > 1 else None), names[-1]


def _relation(node: Any) -> tuple[str | None, str]:
    return node.schemaname, node.relname


@functools.lru_cache(maxsize=4096)
def classify(text: str) -> Classified:
    """What one statement does, from its parse tree (SqlSyntaxError when it does not parse)."""
    try:
        raw = parse_sql(text)
    except parser.ParseError as exc:
        raise SqlSyntaxError(SqlError(str(exc.args[0]), exc.args[1] or 0)) from None
    if len(raw) != 1:
        raise SqlSyntaxError(SqlError(f"{len(raw)} statements where one was expected", 0))
    return _classify(raw[0].stmt)


def _classify(node: Any) -> Classified:
    kind_name = type(node).__name__  # by name: the tree's fields are typed Optional
    if kind_name == "AlterTableStmt":
        return _alter_table(node)
    if kind_name == "CreateStmt":
        return Classified("create table", "table", *_relation(node.relation))
    if kind_name == "DropStmt":
        return _drop(node)
    if kind_name == "IndexStmt":
        return Classified(
            "create index",
            "index",
            node.relation.schemaname,
            node.idxname,
            member_of=_relation(node.relation),
            concurrent=bool(node.concurrent),
        )
    if kind_name == "ViewStmt":
        return Classified("create view", "view", *_relation(node.view))
    if kind_name == "CreateTableAsStmt":
        kind = _OBJECT_KIND.get(node.objtype, "table")
        return Classified(f"create {kind}", kind, *_relation(node.into.rel))
    if kind_name == "CreateFunctionStmt":
        kind = "procedure" if node.is_procedure else "function"
        return Classified(f"create {kind}", kind, *_names(node.funcname))
    if kind_name == "AlterFunctionStmt":
        kind = _OBJECT_KIND.get(node.objtype, "function")
        return Classified(f"alter {kind}", kind, *_names(node.func.objname))
    if kind_name in ("CompositeTypeStmt",):
        return Classified("create type", "type", *_relation(node.typevar))
    if kind_name in (
        "CreateEnumStmt",
        "CreateRangeStmt",
    ):
        return Classified("create type", "type", *_names(node.typeName))
    if kind_name == "AlterEnumStmt":
        action = "rename value" if node.oldVal else "add value"
        return Classified(
            "alter type", "type", *_names(node.typeName), subcommands=(SubCommand(action),)
        )
    if kind_name == "CreateDomainStmt":
        return Classified("create domain", "domain", *_names(node.domainname))
    if kind_name == "AlterDomainStmt":
        return Classified("alter domain", "domain", *_names(node.typeName))
    if kind_name == "CreateSeqStmt":
        return Classified("create sequence", "sequence", *_relation(node.sequence))
    if kind_name == "AlterSeqStmt":
        return Classified("alter sequence", "sequence", *_relation(node.sequence))
    if kind_name == "CreateSchemaStmt":
        return Classified("create schema", "schema", None, node.schemaname)
    if kind_name == "CreateExtensionStmt":
        return Classified("create extension", "extension", None, node.extname)
    if kind_name == "AlterExtensionStmt":
        versions = [
            str(getattr(option.arg, "sval", ""))
            for option in node.options or ()
            if isinstance(option, ast.DefElem) and option.defname == "new_version"
        ]
        return Classified(
            "alter extension", "extension", None, node.extname, version=next(iter(versions), None)
        )
    if kind_name == "CreateTrigStmt":
        return Classified(
            "create trigger",
            "trigger",
            node.relation.schemaname,
            node.trigname,
            member_of=_relation(node.relation),
        )
    if kind_name in (
        "CreatePolicyStmt",
        "AlterPolicyStmt",
    ):
        verb = "create" if kind_name == "CreatePolicyStmt" else "alter"
        return Classified(
            f"{verb} policy",
            "policy",
            node.table.schemaname,
            node.policy_name,
            member_of=_relation(node.table),
        )
    if kind_name == "GrantStmt":
        return _grant(node)
    if kind_name == "GrantRoleStmt":
        return Classified(
            "grant role" if node.is_grant else "revoke role",
            "role",
            None,
            node.granted_roles[0].priv_name if node.granted_roles else None,
        )
    if kind_name == "CommentStmt":
        return _comment(node)
    if kind_name == "RenameStmt":
        return _rename(node)
    if kind_name == "AlterObjectSchemaStmt":
        kind = _OBJECT_KIND.get(node.objectType, "object")
        if node.relation is not None:
            return Classified(f"alter {kind}", kind, *_relation(node.relation))
        return Classified(f"alter {kind}", kind, None, None)
    if kind_name == "AlterOwnerStmt":
        kind = _OBJECT_KIND.get(node.objectType, "object")
        return Classified("owner to", kind, *_object_name(node.object))
    if kind_name in (
        "CreateRoleStmt",
        "AlterRoleStmt",
    ):
        verb = "create" if kind_name == "CreateRoleStmt" else "alter"
        role = node.role if kind_name == "CreateRoleStmt" else node.role.rolename
        return Classified(f"{verb} role", "role", None, role)
    if kind_name == "VariableSetStmt":
        return Classified("set", None, None, node.name)
    if kind_name == "RefreshMatViewStmt":
        return Classified(
            "refresh materialized view",
            "materialized view",
            *_relation(node.relation),
            concurrent=bool(node.concurrent),
        )
    name = type(node).__name__.removesuffix("Stmt")
    return Classified(name.lower(), None, None, None)


def _object_name(target: Any) -> tuple[str | None, str | None]:
    """(schema, name) of a statement's `object`: a name, a qualified list, a routine, a type."""
    if target is None:
        return None, None
    if isinstance(target, ast.String):
        return None, target.sval
    if isinstance(target, ast.ObjectWithArgs):
        return _names(target.objname)
    if isinstance(target, ast.TypeName):
        return _names(target.names)
    return _names(target)


def _alter_table(node: Any) -> Classified:
    kind = _OBJECT_KIND.get(node.objtype, "table")
    schema, name = _relation(node.relation)
    subcommands = alter_table_subcommands(node.cmds, f"{schema}.{name}")
    reasons = tuple(
        s.destructive for s in subcommands if s.destructive and s.action == "drop column"
    )
    return Classified(f"alter {kind}", kind, schema, name, subcommands, destructive=reasons)


def _drop(node: Any) -> Classified:
    kind = _OBJECT_KIND.get(node.removeType, node.removeType.name.removeprefix("OBJECT_").lower())
    first = node.objects[0]
    member_of = None
    if isinstance(first, ast.String):
        schema, name = None, first.sval
    elif isinstance(first, ast.ObjectWithArgs):
        schema, name = _names(first.objname)
    elif isinstance(first, ast.TypeName):
        schema, name = _names(first.names)
    else:
        parts = [p.sval for p in first]
        if kind in ("trigger", "policy", "rule"):
            member_of = (parts[-3] if len(parts) > 2 else None, parts[-2])
            schema, name = member_of[0], parts[-1]
        else:
            schema, name = (parts[-2] if len(parts) > 1 else None), parts[-1]
    qualified = ".".join(p for p in (schema, name) if p)
    reasons: tuple[str, ...] = ()
    if kind == "table":
        reasons = tuple(
            f"drops table {'.'.join(p.sval for p in o)} and every row in it" for o in node.objects
        )
    elif kind == "schema":
        reasons = tuple(f"drops schema {o.sval}" for o in node.objects)
    elif kind == "sequence":
        reasons = tuple(
            f"drops sequence {'.'.join(p.sval for p in o)} and its current value"
            for o in node.objects
        )
    elif kind == "materialized view":
        reasons = (f"drops materialized view {qualified} and its stored rows",)
    return Classified(
        f"drop {kind}",
        kind,
        schema,
        name,
        member_of=member_of,
        destructive=reasons,
        concurrent=bool(node.concurrent),
    )


def _grant(node: Any) -> Classified:
    kind = _OBJECT_KIND.get(node.objtype, "object")
    verb = "grant" if node.is_grant else "revoke"
    first = node.objects[0] if node.objects else None
    if isinstance(first, ast.RangeVar):
        return Classified(verb, kind, *_relation(first))
    if isinstance(first, ast.ObjectWithArgs):
        return Classified(verb, kind, *_names(first.objname))
    if isinstance(first, ast.String):
        return Classified(verb, kind, None, first.sval)
    return Classified(verb, kind, None, None)


def _comment(node: Any) -> Classified:
    kind = _OBJECT_KIND.get(node.objtype, "object")
    target = node.object
    member_of = None
    if isinstance(target, ast.String):
        schema, name = None, target.sval
    elif isinstance(target, ast.ObjectWithArgs):
        schema, name = _names(target.objname)
    elif isinstance(target, ast.TypeName):
        schema, name = _names(target.names)
    else:
        parts = [p.sval for p in target]
        if kind in ("column", "trigger", "policy", "constraint"):
            member_of = (parts[-3] if len(parts) > 2 else None, parts[-2])
            schema, name = member_of[0], parts[-1]
        else:
            schema, name = (parts[-2] if len(parts) > 1 else None), parts[-1]
    return Classified("comment on", kind, schema, name, member_of=member_of)


def _rename(node: Any) -> Classified:
    kind = _OBJECT_KIND.get(node.renameType, "object")
    if node.relation is not None:
        schema, name = _relation(node.relation)
        if kind in ("column", "constraint", "trigger", "policy"):
            return Classified(
                f"rename {kind}", kind, schema, node.subname, member_of=(schema, name)
            )
        return Classified(f"rename {kind}", kind, schema, name)
    obj = node.object
    if isinstance(obj, ast.String):
        return Classified(f"rename {kind}", kind, None, obj.sval)
    if isinstance(obj, ast.ObjectWithArgs):
        return Classified(f"rename {kind}", kind, *_names(obj.objname))
    if obj is None:
        return Classified(f"rename {kind}", kind, None, node.subname)
    return Classified(f"rename {kind}", kind, *_names(obj))


def is_destructive(text: str) -> bool:
    return bool(classify(text).destructive)


def describe(text: str) -> str:
    """The object a statement is about, for messages: `table core.users`,
    `trigger touch on core.users`, `constraint k on core.users`, `privileges on core.users`."""
    try:
        found = classify(text)
    except SqlSyntaxError:
        return "statement"
    # Named as the catalog model names objects: a part holding a dot or a quote quoted.
    qualified = ".".join(label_part(p) for p in (found.schema, found.name) if p)
    if found.kind in ("grant", "revoke"):
        return f"privileges on {qualified}" if found.name else "privileges"
    if found.member_of is not None and found.object_kind != "index":
        table = ".".join(label_part(p) for p in found.member_of if p)
        return f"{found.object_kind} {member_label(str(found.name), table)}"
    constraints = [s.constraint for s in found.subcommands if s.constraint]
    if found.kind == "alter table" and constraints:
        return f"constraint {member_label(constraints[0], qualified)}"
    return f"{found.object_kind or found.kind} {qualified}".strip()
