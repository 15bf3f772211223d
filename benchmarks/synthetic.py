"""A synthetic schemac project of any size, for benchmarks and smoke tests.

The project looks like a real multi-tenant application rather than N copies of one table:
ten domain schemas, each with an enum; per table about nine columns of varied types, an
identity primary key, a foreign key to the table before it (often in the previous schema,
so the compiler has cross-file constraints to move), two indexes (the second partial or on
an expression), a check, a tenant declaration (row-level security and a policy), a trigger
on every third table calling one shared trigger function, a view over every tenth table,
and comments. The output depends only on the arguments: no randomness, no clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SCHEMA_NAMES = (
    "accounts",
    "billing",
    "catalog",
    "orders",
    "inventory",
    "shipping",
    "support",
    "marketing",
    "reporting",
    "audit",
)
TABLE_NOUNS = (
    "customer",
    "invoice",
    "payment",
    "product",
    "order_line",
    "stock_move",
    "parcel",
    "ticket",
    "campaign",
    "report",
    "contract",
    "address",
    "subscription",
    "refund",
    "warehouse",
    "supplier",
    "discount",
    "shipment",
    "note",
    "event",
)
DEFAULT_FILE_COUNT = 10
TENANT_COLUMN = "tenant_id"
TENANT_SETTING = "app.current_tenant_id"
TRIGGER_FUNCTION = "touch_updated_at"
TRIGGER_EVERY = 3  # tables
VIEW_EVERY = 10  # tables

SETTINGS_TEXT = f"""\
# A synthetic project written by benchmarks/synthetic.py.
schema_dir: schema
generated_dir: generated
tenancy:
  column: {TENANT_COLUMN}
  setting: {TENANT_SETTING}
  type: uuid
  policy: tenant_isolation
"""

# One rotating column per table, so not every table has the same shape.
_EXTRA_COLUMNS = (
    'quantity:    {type: integer, not_null: true, default: 1, check: "quantity > 0"}',
    "is_archived: {type: boolean, not_null: true, default: false}",
    'due_on:      {type: date, comment: "The day the record falls due; NULL when it never does."}',
    'tags:        {type: "text[]", not_null: true, default: "\'{}\'"}',
)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


_NAME_CHECK = _quoted("btrim(name) <> ''")
_DRAFT = _quoted("'draft'")
_EMPTY_JSON = _quoted("'{}'::jsonb")
_NOT_ARCHIVED = _quoted("status <> 'archived'")
_ACTIVE = _quoted("status = 'active'")


@dataclass(frozen=True)
class PlannedTable:
    index: int  # position in the whole project, 0-based
    schema: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SyntheticProject:
    root: Path
    schema_files: tuple[Path, ...]
    tables: int
    views: int
    triggers: int

    @property
    def yaml_files(self) -> tuple[Path, ...]:
        """Every YAML file schemac reads: the settings file and the schema files."""
        return (self.root / "schemac.yaml", *self.schema_files)


def schema_name(file_index: int) -> str:
    base = SCHEMA_NAMES[file_index % len(SCHEMA_NAMES)]
    return base if file_index < len(SCHEMA_NAMES) else f"{base}_{file_index // len(SCHEMA_NAMES)}"


def plan_tables(table_count: int, file_count: int = DEFAULT_FILE_COUNT) -> list[list[PlannedTable]]:
    """Tables spread evenly over the schema files, in order; one list per file."""
    if table_count < 1:
        raise ValueError("a synthetic project needs at least one table")
    files = max(1, min(file_count, table_count))
    plan: list[list[PlannedTable]] = [[] for _ in range(files)]
    for index in range(table_count):
        file_index = index * files // table_count
        noun = TABLE_NOUNS[index % len(TABLE_NOUNS)]
        plan[file_index].append(PlannedTable(index, schema_name(file_index), f"{noun}_{index:05d}"))
    return plan


def _table_yaml(
    table: PlannedTable, parent: PlannedTable | None, total: int, function: str
) -> list[str]:
    i = table.index
    lines = [
        f"  {table.name}:",
        f"    comment: Synthetic table {i + 1} of {total}, one tenant's {TABLE_NOUNS[i % len(TABLE_NOUNS)]} records.",
        "    tenant: true",
        "    columns:",
        "      id:          {type: bigint, identity: always, primary_key: true}",
        f"      {TENANT_COLUMN}:   {{type: uuid, not_null: true, comment: The tenant that owns the row.}}",
    ]
    if parent is not None:
        lines.append(
            f"      parent_id:   {{type: bigint, references: {{table: {parent.qualified}, on_delete: cascade}},"
            f" comment: The {parent.name} this row belongs to.}}"
        )
    lines += [
        f"      name:        {{type: text, not_null: true, check: {_NAME_CHECK}}}",
        f"      status:      {{type: record_status, not_null: true, default: {_DRAFT}}}",
        '      amount:      {type: "numeric(12,2)", not_null: true, default: 0}',
        f"      attributes:  {{type: jsonb, not_null: true, default: {_EMPTY_JSON}}}",
        f"      {_EXTRA_COLUMNS[i % len(_EXTRA_COLUMNS)]}",
        "      created_at:  {type: timestamptz, not_null: true, default: now()}",
        "      updated_at:  {type: timestamptz, not_null: true, default: now()}",
        "    checks:",
        f"      {table.name}_amount_range: {_quoted('amount >= 0 AND amount < 1000000000')}",
        "    indexes:",
    ]
    lookup = "parent_id" if parent is not None else "created_at desc"
    lines.append(f"      - {{columns: [{TENANT_COLUMN}, {lookup}]}}")
    if i % 2 == 0:
        lines.append(
            f"      - {{columns: [{{expression: {_quoted('lower(name)')}}}], where: {_NOT_ARCHIVED}}}"
        )
    else:
        lines.append(
            f"      - {{columns: [{TENANT_COLUMN}, created_at desc], include: [amount], "
            f'where: {_ACTIVE}, comment: "Active records, newest first."}}'
        )
    if i % TRIGGER_EVERY == 0:
        lines += [
            "    triggers:",
            f"      {TRIGGER_FUNCTION}: {{timing: before, events: [update], for_each: row, function: {function}}}",
        ]
    return lines


def _view_yaml(table: PlannedTable, parent: PlannedTable | None) -> list[str]:
    lines = [
        f"  {table.name}_overview:",
        f"    comment: {table.name} with its parent's name, for reports.",
        "    security_invoker: true",
        "    query: |",
        "      SELECT t.id, t.tenant_id, t.name, t.status, t.amount,"
        + (" p.name AS parent_name" if parent else " NULL::text AS parent_name"),
        f"      FROM {table.qualified} AS t",
    ]
    if parent is not None:
        lines.append(f"      LEFT JOIN {parent.qualified} AS p ON p.id = t.parent_id")
    return lines


def schema_file_text(
    tables: list[PlannedTable],
    previous: dict[int, PlannedTable],
    total: int,
    function: str,
    defines_function: bool,
) -> str:
    schema = tables[0].schema
    lines = [
        "# yaml-language-server: $schema=../.schemac/schemac.schema.json",
        f"schema: {schema}",
        f"comment: Synthetic domain schema {schema} ({len(tables)} tables), written by benchmarks/synthetic.py.",
        "",
        "enums:",
        "  record_status:",
        "    values: [draft, active, archived]",
        "    comment: Where a record is in its life cycle.",
    ]
    if defines_function:
        lines += [
            "",
            "functions:",
            f"  {TRIGGER_FUNCTION}:",
            "    language: plpgsql",
            "    returns: trigger",
            "    comment: Keeps updated_at current on every UPDATE; shared by the tables of every schema.",
            "    body: |",
            "      BEGIN",
            "        NEW.updated_at := now();",
            "        RETURN NEW;",
            "      END",
        ]
    lines += ["", "tables:"]
    for table in tables:
        lines += _table_yaml(table, previous.get(table.index), total, function)
    viewed = [t for t in tables if t.index % VIEW_EVERY == VIEW_EVERY - 1]
    if viewed:
        lines += ["", "views:"]
        for table in viewed:
            lines += _view_yaml(table, previous.get(table.index))
    return "\n".join(lines) + "\n"


def write_project(
    root: Path, table_count: int, file_count: int = DEFAULT_FILE_COUNT
) -> SyntheticProject:
    """Write schemac.yaml and schema/*.yaml for `table_count` tables under `root`."""
    plan = plan_tables(table_count, file_count)
    ordered = [t for file_tables in plan for t in file_tables]
    previous = {t.index: ordered[t.index - 1] for t in ordered if t.index > 0}
    function = f"{plan[0][0].schema}.{TRIGGER_FUNCTION}"
    schema_dir = root / "schema"
    schema_dir.mkdir(parents=True, exist_ok=True)
    (root / "schemac.yaml").write_text(SETTINGS_TEXT, encoding="utf-8")
    files: list[Path] = []
    for file_index, tables in enumerate(plan):
        path = schema_dir / f"{file_index + 1:02d}_{tables[0].schema}.yaml"
        text = schema_file_text(
            tables, previous, table_count, function, defines_function=file_index == 0
        )
        path.write_text(text, encoding="utf-8")
        files.append(path)
    views = sum(1 for t in ordered if t.index % VIEW_EVERY == VIEW_EVERY - 1)
    triggers = sum(1 for t in ordered if t.index % TRIGGER_EVERY == 0)
    return SyntheticProject(root, tuple(files), table_count, views, triggers)
