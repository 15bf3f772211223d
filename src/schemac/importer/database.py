"""What `schemac import` reads from a live database, in one READ ONLY transaction.

The catalog reader (schemac.catalog) gives the model; this module adds the few facts the YAML
needs that the reader does not keep: the connecting role, each extension's own comment and
default version (a comment the extension ships is not the user's), and the WHEN condition of
each trigger, taken from ``pg_get_triggerdef`` by the SQL parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemac import flyway
from schemac.catalog import CatalogModel, read_catalog, read_roles
from schemac.catalog.queries import rows
from schemac.drift import connect
from schemac.importer.names import printed, statement
from schemac.model import QName

EXTENSIONS = """
SELECT name, default_version, comment FROM pg_catalog.pg_available_extensions ORDER BY name
"""

# Types an extension created, with the schema they live in.
EXTENSION_TYPES = """
SELECT t.typname AS name, n.nspname AS schema
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
  AND d.objid = t.oid AND d.deptype = 'e'
ORDER BY 1, 2
"""

# Each routine's SET clauses in the order PostgreSQL keeps them (the catalog model sorts them).
ROUTINE_SETTINGS = """
SELECT n.nspname AS schema, p.proname AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity, p.proconfig
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.proconfig IS NOT NULL
"""

# A domain's checks as expressions (pg_get_constraintdef wraps them in CHECK (...)).
DOMAIN_CHECKS = """
SELECT n.nspname AS schema, t.typname AS domain, k.conname AS name,
       pg_catalog.pg_get_expr(k.conbin, 0) AS expression, NOT k.convalidated AS not_valid
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_type t ON t.oid = k.contypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE k.contype = 'c'
"""

# Routines whose body is SQL-standard (BEGIN ATOMIC / RETURN): prosrc is empty for them.
STANDARD_BODIES = """
SELECT n.nspname AS schema, p.proname AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosqlbody IS NOT NULL
"""


@dataclass
class Source:
    """A database as the importer sees it."""

    catalog: CatalogModel
    roles: dict[str, dict[str, Any]]
    current_user: str
    server_version: int
    extension_defaults: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    trigger_when: dict[str, str] = field(default_factory=dict)  # "name on schema.table" -> SQL
    extension_types: tuple[tuple[str, str], ...] = ()  # (type, schema)
    standard_bodies: frozenset[str] = frozenset()
    routine_settings: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    domain_checks: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)


def read_source(db_url: str) -> Source:
    """Read the database at ``db_url`` without writing anything to it.

    The session's search_path is only pg_catalog, so every name PostgreSQL prints in a default,
    a check, a view or a policy comes out schema-qualified, as the migrations need it.
    """
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        conn.execute("SET search_path TO pg_catalog")
        catalog = read_catalog(conn, skip_relations=(flyway.DEFAULT_HISTORY_TABLE,))
        roles = read_roles(conn)
        found = conn.execute("SELECT current_user, current_setting('server_version_num')")
        user, version = found.fetchone() or ("", "0")
        defaults = {
            row["name"]: (row["default_version"], row["comment"]) for row in rows(conn, EXTENSIONS)
        }
        extension_types = tuple((r["name"], r["schema"]) for r in rows(conn, EXTENSION_TYPES))
        standard = frozenset(_routine_label(r) for r in rows(conn, STANDARD_BODIES))
        settings = {
            _routine_label(r): [_setting(entry) for entry in r["proconfig"]]
            for r in rows(conn, ROUTINE_SETTINGS)
        }
        checks = {
            (QName(r["schema"], r["domain"]).label, str(r["name"])): (
                str(r["expression"]),
                bool(r["not_valid"]),
            )
            for r in rows(conn, DOMAIN_CHECKS)
        }
        conn.rollback()
    source = Source(
        catalog,
        roles,
        str(user),
        int(version),
        defaults,
        {},
        extension_types,
        standard,
        settings,
        checks,
    )
    for name in catalog.of("trigger"):
        definition = catalog.extras.get(("trigger", name), {}).get("definition")
        if definition:
            when = trigger_when(str(definition))
            if when is not None:
                source.trigger_when[name] = when
    return source


def _routine_label(row: dict[str, Any]) -> str:
    """A routine's name in the catalog model (catalog/routines.py): ``schema.name(types)``."""
    return f"{QName(row['schema'], row['name']).label}({row['identity']})"


def _setting(entry: str) -> tuple[str, str]:
    name, _, value = entry.partition("=")
    return name, value


def trigger_when(definition: str) -> str | None:
    """The WHEN condition of a CREATE TRIGGER statement, printed back by the parser."""
    clause = getattr(statement(definition), "whenClause", None)
    return None if clause is None else printed(clause)
