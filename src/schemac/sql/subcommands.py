"""The sub-commands of an ALTER TABLE, from its parse tree: each one's action, the column or
constraint it names, the constraint type and NOT VALID, what fills a new column, and whether
it loses data. ``classify`` reads a whole statement with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pglast import ast, enums
from pglast.visitors import Visitor

# AlterTableType -> the action's name; anything not listed is named after the enum.
_ACTIONS = {
    "AT_AddColumn": "add column",
    "AT_DropColumn": "drop column",
    "AT_AlterColumnType": "set data type",
    "AT_SetNotNull": "set not null",
    "AT_DropNotNull": "drop not null",
    "AT_SetExpression": "set expression",
    "AT_DropExpression": "drop expression",
    "AT_AddConstraint": "add constraint",
    "AT_DropConstraint": "drop constraint",
    "AT_ValidateConstraint": "validate constraint",
    "AT_AlterConstraint": "alter constraint",
    "AT_EnableRowSecurity": "enable row level security",
    "AT_DisableRowSecurity": "disable row level security",
    "AT_ForceRowSecurity": "force row level security",
    "AT_NoForceRowSecurity": "no force row level security",
    "AT_AddIdentity": "add identity",
    "AT_SetIdentity": "set identity",
    "AT_DropIdentity": "drop identity",
    "AT_ChangeOwner": "owner to",
    "AT_AttachPartition": "attach partition",
    "AT_DetachPartition": "detach partition",
    "AT_ReplicaIdentity": "replica identity",
    "AT_SetLogged": "set logged",
    "AT_SetUnLogged": "set unlogged",
    "AT_SetRelOptions": "set options",
    "AT_ResetRelOptions": "reset options",
    "AT_EnableTrig": "enable trigger",
    "AT_DisableTrig": "disable trigger",
    "AT_SetStatistics": "set statistics",
    "AT_SetStorage": "set storage",
    "AT_SetCompression": "set compression",
    "AT_AddInherit": "inherit",
    "AT_DropInherit": "no inherit",
    "AT_SetTableSpace": "set tablespace",
}
_COLUMN_ACTIONS = frozenset(
    {
        "add column",
        "drop column",
        "set data type",
        "set not null",
        "drop not null",
        "set default",
        "drop default",
        "set expression",
        "drop expression",
        "add identity",
        "set identity",
        "drop identity",
        "set statistics",
        "set storage",
        "set compression",
    }
)


@dataclass(frozen=True)
class SubCommand:
    """One action of an ALTER TABLE: `add column` of `email`, `drop constraint` `t_key`."""

    action: str
    column: str | None = None
    constraint: str | None = None
    destructive: str | None = None  # why it loses data, when it does
    using_index: str | None = None  # ADD CONSTRAINT ... USING INDEX <name>
    # ADD CONSTRAINT (or a constraint of ADD COLUMN): check, foreign key, primary key, unique,
    # exclusion, not null; and whether it is added NOT VALID (PostgreSQL then skips the scan).
    constraint_type: str | None = None
    not_valid: bool = False
    # ADD COLUMN: what fills the existing rows when it is not a constant or stable default
    # ("identity", "generated", "volatile default"): PostgreSQL then rewrites the table.
    fills: str | None = None
    using: bool = False  # SET DATA TYPE ... USING <expression>


def alter_table_subcommands(commands: Any, table: str) -> tuple[SubCommand, ...]:
    """Each ALTER TABLE sub-command of ``table`` (schema.name, for the data-loss reasons)."""
    subcommands = []
    for command in commands:
        action = (
            _ACTIONS.get(command.subtype.name) or command.subtype.name.removeprefix("AT_").lower()
        )
        if command.subtype.name == "AT_ColumnDefault":
            action = "set default" if command.def_ is not None else "drop default"
        column = constraint = using_index = None
        if action in _COLUMN_ACTIONS:
            column = command.name or (command.def_.colname if command.def_ else None)
        elif action == "add constraint":
            constraint = command.def_.conname
            using_index = getattr(command.def_, "indexname", None)
        elif action in ("drop constraint", "validate constraint"):
            constraint = command.name
        elif action == "alter constraint":
            constraint = command.def_.conname
        destructive = None
        details = _details(action, command.def_)
        if action == "drop column":
            destructive = f"drops column {column} of {table} and its data"
        elif action == "set data type":
            destructive = f"changes the type of column {column} of {table}"
        subcommands.append(
            SubCommand(action, column, constraint, destructive, using_index, *details)
        )
    return tuple(subcommands)


_CONSTRAINT_TYPES = {
    enums.ConstrType.CONSTR_CHECK: "check",
    enums.ConstrType.CONSTR_FOREIGN: "foreign key",
    enums.ConstrType.CONSTR_PRIMARY: "primary key",
    enums.ConstrType.CONSTR_UNIQUE: "unique",
    enums.ConstrType.CONSTR_EXCLUSION: "exclusion",
    enums.ConstrType.CONSTR_NOTNULL: "not null",
}
# Functions PostgreSQL declares VOLATILE that defaults commonly call: a new column whose
# default calls one is filled row by row (a rewrite). A routine of the user's counts too
# (CREATE FUNCTION's default volatility is VOLATILE).
_VOLATILE = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "setseed",
        "txid_current",
        "pg_current_xact_id",
    }
)


def _details(action: str, definition: Any) -> tuple[str | None, bool, str | None, bool]:
    """(constraint type, NOT VALID, what fills a new column, USING) of one sub-command."""
    if action == "add constraint" and isinstance(definition, ast.Constraint):
        return (
            _CONSTRAINT_TYPES.get(definition.contype) if definition.contype else None,
            bool(definition.skip_validation),
            None,
            False,
        )
    if action == "set data type" and isinstance(definition, ast.ColumnDef):
        return None, False, None, definition.raw_default is not None
    if action != "add column" or not isinstance(definition, ast.ColumnDef):
        return None, False, None, False
    kinds = [_CONSTRAINT_TYPES.get(c.contype) for c in definition.constraints or ()]
    constraint_type = next((k for k in kinds if k not in (None, "not null")), None)
    fills = None
    for item in definition.constraints or ():
        if item.contype == enums.ConstrType.CONSTR_IDENTITY:
            fills = "identity"
        elif item.contype == enums.ConstrType.CONSTR_GENERATED and item.generated_kind != "v":
            fills = "generated"
        elif item.contype == enums.ConstrType.CONSTR_DEFAULT and _calls_volatile(item.raw_expr):
            fills = "volatile default"
    return constraint_type, False, fills, False


def _calls_volatile(expression: Any) -> bool:
    found = False

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
            nonlocal found
            names = [str(n.sval) for n in node.funcname or ()]
            if names[-1] in _VOLATILE or (len(names) > 1 and names[0] != "pg_catalog"):
                found = True

    if expression is not None:
        Calls()(expression)
    return found
