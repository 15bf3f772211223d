"""Publications (`publications:`, project-wide like roles): what logical replication sends.

`all_tables: true`, or `tables:` (each `schema.table` or `{table, columns, where}`) and
`schemas:` (FOR TABLES IN SCHEMA); `publish:` the actions, `publish_via_partition_root`.
Column lists, row filters and schemas need PostgreSQL 15 (`postgres_version`, E374). The
model is `m.Publication`, read by `catalog/publications.py`; migra does not know
publications, so `migrate` writes CREATE, ALTER ... SET and DROP PUBLICATION itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemac import model as m
from schemac.catalog.publications import read_publications
from schemac.kinds.migrating import read_kind, render_create
from schemac.kinds.registry import Comparison, Kind, Located
from schemac.naming import quote_ident, quote_literal
from schemac.node_keys import node_key
from schemac.sqlfields import FieldChecker

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser
    from schemac.build import Builder
    from schemac.importer.context import Context
    from schemac.loader import Document, LocatedDict

SECTION = "publications"
ACTIONS = ("insert", "update", "delete", "truncate")


def _table(b: Builder, schema: str | None, entry: Any, what: str) -> m.PublicationTable:
    name = entry if isinstance(entry, str) else entry["table"]
    qname = b.qualify(name, schema or "public")
    if isinstance(entry, str):
        return m.PublicationTable(qname)
    checker = FieldChecker()
    checker.sql(entry, "where", f"the row filter of {qname} in {what}")
    b.diagnostics.extend(checker.diagnostics)
    if (entry.get("columns") or entry.get("where")) and b.settings.postgres_version < 15:
        b.error(
            "E374",
            f"{what}: column lists and row filters need PostgreSQL 15 or later "
            f"(postgres_version is {b.settings.postgres_version})",
            entry.key_locations.get("where") or entry.key_locations.get("columns"),
            "publish the whole table, or raise postgres_version",
        )
    return m.PublicationTable(qname, tuple(entry.get("columns") or ()), entry.get("where"))


def build(b: Builder, u: int, schema: str | None, doc: Document) -> None:
    section: LocatedDict | None = doc.data.get(SECTION)
    for name, declared in (section or {}).items():
        what = f"publication '{name}'"
        loc = section.key_locations[name]  # type: ignore[union-attr]
        if declared.get("schemas") and b.settings.postgres_version < 15:
            b.error("E374", f"{what}: schemas need PostgreSQL 15 or later", loc)
        publish = declared.get("publish")
        b.add(
            SECTION,
            u,
            m.Publication(
                name=name,
                all_tables=bool(declared.get("all_tables", False)),
                publish=ACTIONS if publish is None else tuple(a for a in ACTIONS if a in publish),
                via_root=bool(declared.get("publish_via_partition_root", False)),
                tables=tuple(
                    sorted(
                        (_table(b, schema, e, what) for e in declared.get("tables") or ()),
                        key=lambda t: (t.table.schema, t.table.name),
                    )
                ),
                schemas=tuple(sorted(declared.get("schemas") or ())),
                comment=declared.get("comment"),
                loc=loc,
            ),
        )


def edges(a: Analyser, publication: m.Publication) -> set[str]:
    deps: set[str] = set()
    for entry in publication.tables:
        key = a.relation_keys.get(entry.table)
        if key:
            deps.add(key)
        deps |= a.sql_dependencies(entry.where)
    return deps | {
        node_key("schema", s) for s in publication.schemas if node_key("schema", s) in a.nodes
    }


def check(a: Analyser) -> None:
    seen: dict[str, m.Publication] = {}
    for _, publication in a.p.of(SECTION):
        what = f"publication {publication.name}"
        if publication.name in seen:
            a.error("E375", f"{what} is declared twice", publication.loc, "remove one of them")
        seen[publication.name] = publication
        if publication.all_tables and (publication.tables or publication.schemas):
            a.error(
                "E375",
                f"{what}: all_tables publishes every table; it takes no tables or schemas",
                publication.loc,
            )
        for entry in publication.tables:
            if entry.table not in a.tables:
                a.error("E331", f"{what} publishes unknown table {entry.table}", publication.loc)
                continue
            a.check_columns(entry.table, entry.columns, publication.loc, what)
        for schema in publication.schemas:
            if schema not in a.schemas:
                a.error("E375", f"{what} publishes unknown schema '{schema}'", publication.loc)


def nodes(publication: m.Publication) -> tuple[tuple[str, str], ...]:
    return (("publication", node_key("publication", publication.name)),)


def target_list(publication: m.Publication, *, whole: bool = True) -> str:
    """`TABLE a (x) WHERE (...), TABLES IN SCHEMA s`: what a publication publishes."""
    parts = []
    for entry in publication.tables:
        text = f"TABLE {entry.table.sql}"
        if whole and entry.columns:
            text += " (" + ", ".join(quote_ident(c) for c in entry.columns) + ")"
        if whole and entry.where:
            text += f" WHERE ({entry.where})"
        parts.append(text)
    parts += [f"TABLES IN SCHEMA {quote_ident(s)}" for s in publication.schemas]
    return ", ".join(parts)


def options(publication: m.Publication) -> str:
    return (
        f"publish = {quote_literal(', '.join(publication.publish))}, "
        f"publish_via_partition_root = {'true' if publication.via_root else 'false'}"
    )


def _alter(current: m.Publication, desired: m.Publication) -> list[str]:
    name = quote_ident(desired.name)
    statements = []
    if (current.publish, current.via_root) != (desired.publish, desired.via_root):
        statements.append(f"ALTER PUBLICATION {name} SET ({options(desired)});")
    if (current.tables, current.schemas) != (desired.tables, desired.schemas):
        if desired.tables or desired.schemas:
            statements.append(f"ALTER PUBLICATION {name} SET {target_list(desired)};")
        else:
            statements.append(f"ALTER PUBLICATION {name} DROP {target_list(current, whole=False)};")
    return statements


def migrate(work: psycopg.Connection[Any], desired: psycopg.Connection[Any]) -> list[str]:
    """CREATE, ALTER ... SET and DROP PUBLICATION (after migra: the tables exist by then);
    FOR ALL TABLES cannot be altered, so a change of it drops and creates the publication."""
    have, want = read_kind(work, PUBLICATION), read_kind(desired, PUBLICATION)
    statements = []
    for name in sorted(have.keys() | want.keys()):
        current, wanted = have.get(name), want.get(name)
        if wanted is None or (current is not None and current.all_tables != wanted.all_tables):
            statements.append(f"DROP PUBLICATION {quote_ident(name)};")
            current = None
        if wanted is None:
            continue
        if current is None:
            statements.append(render_create(PUBLICATION, wanted))
        else:
            statements += _alter(current, wanted)
        if wanted.comment != (None if current is None else current.comment):
            text = "NULL" if wanted.comment is None else quote_literal(wanted.comment)
            statements.append(f"COMMENT ON PUBLICATION {quote_ident(name)} IS {text};")
    return statements


def import_yaml(ctx: Context, publication: m.Publication) -> dict[str, Any]:
    """The YAML of a publication read from a database (`schemac import`)."""
    from schemac.importer.names import qualified_reference  # the importer imports the kinds

    ctx.names.check("publication", publication.name)
    out: dict[str, Any] = {}
    if publication.all_tables:
        out["all_tables"] = True
    tables: list[Any] = []
    for entry in publication.tables:
        if not entry.columns and entry.where is None:
            tables.append(qualified_reference(entry.table))
            continue
        item: dict[str, Any] = {"table": qualified_reference(entry.table)}
        if entry.columns:
            item["columns"] = list(entry.columns)
        if entry.where is not None:
            item["where"] = entry.where
        tables.append(item)
    if tables:
        out["tables"] = tables
    if publication.schemas:
        out["schemas"] = list(publication.schemas)
    if publication.publish != ACTIONS:
        out["publish"] = list(publication.publish)
    if publication.via_root:
        out["publish_via_partition_root"] = True
    if publication.comment is not None:
        out["comment"] = publication.comment
    return out


PUBLICATION = Kind(
    "publication",
    field=SECTION,
    project_wide=True,
    build=build,
    nodes=nodes,
    edges=edges,
    check=check,
    located=Located("publication", ("publication",)),
    template="publication",
    reader=lambda conn, out, reading: read_publications(conn, out),
    comparison=Comparison(("publication",)),
    import_yaml=import_yaml,
    migrate=migrate,
    migrate_after_migra=True,
)
