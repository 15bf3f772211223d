"""REPLICA IDENTITY of tables (`replica_identity:` on a table): what logical replication sends
of an updated or deleted row. Part of the table (its builder, template, catalog reader and
comparison: `m.Table.replica_identity`); this module holds the value rules, the check and the
migration, as a kind without objects of its own.

Values: `default` (the primary key), `full`, `nothing`, or `{index: name}`, which names the
table's primary key or one of its unique constraints (created with the table, so the
identity is set in the table's own SQL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.kinds.registry import Kind
from schemac.located import LocatedDict
from schemac.naming import default_constraint_name, quote_ident, quote_qualified

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser
    from schemac.diagnostics import SourceLocation

_READ = """
SELECT n.nspname, c.relname, c.relreplident::text,
       (SELECT i.relname FROM pg_catalog.pg_index x
        JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = c.oid AND x.indisreplident) AS identity_index
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
"""
_WORDS = {"d": "default", "n": "nothing", "f": "full"}


def replica_identity_of(declared: Any) -> str:
    """The model's value (`m.Table.replica_identity`) of the YAML's."""
    if declared is None:
        return "default"
    if isinstance(declared, dict):
        return f"index {declared['index']}"
    return str(declared)


def replica_identity_location(table: LocatedDict) -> SourceLocation | None:
    """Where `replica_identity: {index: ...}` names its index (only then: positions are
    worked out on first use, and most tables have none to report)."""
    declared = table.get("replica_identity")
    if isinstance(declared, LocatedDict) and "index" in declared:
        return declared.value_locations["index"]
    return None


def yaml_of(value: str) -> Any:
    """The YAML of the model's value (`schemac import`); None for the default."""
    if value == "default":
        return None
    if value.startswith("index "):
        return {"index": value.removeprefix("index ")}
    return value


def sql_clause(value: str) -> str:
    """What follows ALTER TABLE t REPLICA IDENTITY."""
    if value.startswith("index "):
        return f"USING INDEX {quote_ident(value.removeprefix('index '))}"
    return value.upper()


def check(a: Analyser) -> None:
    for _, table in a.p.tables:
        keys = [c.name for c in table.constraints if c.kind in ("primary_key", "unique")]
        _check_index(a, f"table {table.qname}", table.replica_identity, keys, table)
    for _, part in a.p.partitions:
        if part.replica_identity.startswith("index "):
            _check_index(
                a, f"partition {part.qname}", part.replica_identity, _keys_of(a, part), part
            )


def _keys_of(a: Analyser, part: m.Partition) -> list[str]:
    """The indexes a partition's identity may use: its own keys' and its copies of the keys
    of the tables above it, which PostgreSQL names after the partition (`<partition>_pkey`,
    `<partition>_<columns>_key`)."""
    keys = [c.name for c in part.constraints if c.kind in ("primary_key", "unique")]
    seen = {part.qname}
    above: m.Table | m.Partition | None = a.partitions.get(part.parent) or a.tables.get(part.parent)
    while above is not None and above.qname not in seen:
        seen.add(above.qname)
        for con in above.constraints:
            if con.kind in ("primary_key", "unique"):
                columns = [] if con.kind == "primary_key" else list(con.columns)
                label = "pkey" if con.kind == "primary_key" else "key"
                keys.append(default_constraint_name(part.qname.name, columns, label))
        parent = above.parent if isinstance(above, m.Partition) else None
        above = (a.partitions.get(parent) or a.tables.get(parent)) if parent else None
    return keys


def _check_index(
    a: Analyser, what: str, value: str, keys: list[str], obj: m.Table | m.Partition
) -> None:
    if not value.startswith("index "):
        return
    index = value.removeprefix("index ")
    if index not in keys:
        a.error(
            "E373",
            f"{what}: replica_identity names '{index}', which is neither its primary key nor "
            "one of its unique constraints",
            obj.replica_identity_loc or obj.loc,
            hint="name one of: " + (", ".join(keys) or "(none: declare a unique constraint)"),
        )


def _read(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], str]:
    found = {}
    for schema, name, code, index in conn.execute(_READ).fetchall():
        found[(str(schema), str(name))] = _WORDS.get(code, f"index {index}")
    return found


def migrate(work: psycopg.Connection[Any], desired: psycopg.Connection[Any]) -> list[str]:
    """migra does not compare replica identities: ALTER TABLE for each that differs (run after
    migra, when every table and key of the desired state exists)."""
    current = _read(work)
    return [
        f"ALTER TABLE {quote_qualified(*table)} REPLICA IDENTITY {sql_clause(value)};"
        for table, value in sorted(_read(desired).items())
        if table in current and current[table] != value
    ]


REPLICA_IDENTITY = Kind(
    "replica_identity",
    check=check,
    migrate=migrate,
    migrate_after_migra=True,
)
