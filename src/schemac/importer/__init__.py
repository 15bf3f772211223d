"""`schemac import`: a live database written as schemac YAML, the renderer's inverse.

The database is read once, in a READ ONLY transaction, into the catalog model
(:mod:`schemac.catalog`); each schema becomes one unit file ``schema/NN_<schema>.yaml`` in
dependency order, project-wide objects (extensions, roles) go to ``schema/00_project.yaml``,
and long function bodies to ``schema/<schema>/<name>.sql``. What the YAML format cannot hold is
reported as a loss naming the object and the attribute; a name the format cannot hold stops
the import before anything is written.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from schemac import kinds
from schemac.errors import UsageError
from schemac.importer.context import Context
from schemac.importer.database import read_source
from schemac.importer.external import external_section
from schemac.importer.names import TypeNames
from schemac.importer.notes import Loss
from schemac.importer.units import (
    UNDECLARABLE,
    imported_counts,
    project_document,
    schema_units,
)
from schemac.importer.yaml_writer import dump_document
from schemac.kinds.ranges import local_multiranges
from schemac.naming import file_safe
from schemac.project import YAML_SUFFIXES, Settings

PROJECT_UNIT = "00_project.yaml"
# The catalog kinds of the types a schema declares (enums, domains, composite types, ...), which
# a column of the same schema names bare: the kinds whose objects are found as `type:` nodes.
LOCAL_TYPES = tuple(
    c
    for k in kinds.KINDS
    if k.located is not None and k.located.prefix == "type"
    for c in k.comparison.catalog_kinds
)
JSON_SCHEMA_PATH = Path(".schemac") / "schemac.schema.json"


@dataclass
class ImportResult:
    written: list[Path] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class ImportRefused(UsageError):
    """Objects the YAML format cannot name: nothing is written."""


def schema_line(settings: Settings) -> str:
    """The editor's JSON Schema line for a file in the schema folder."""
    target = os.path.relpath(settings.root / JSON_SCHEMA_PATH, settings.schema_dir)
    return f"yaml-language-server: $schema={Path(target).as_posix()}"


def render_import(
    settings: Settings, db_url: str, schemas: list[str] | None = None
) -> tuple[dict[str, str], ImportResult]:
    """The files import writes (path relative to the schema folder -> text), nothing written."""
    result = ImportResult()
    started = time.perf_counter()
    source = read_source(db_url)
    result.seconds["read"] = time.perf_counter() - started
    catalog = source.catalog
    local = frozenset(
        (o.qname.schema, o.qname.name) for kind in LOCAL_TYPES for o in catalog.of(kind).values()
    ) | local_multiranges(catalog)
    ctx = Context(
        source,
        settings.tenancy,
        TypeNames(local, source.extension_types),
        privileges=settings.privileges,
    )
    wanted = set(schemas) if schemas else None
    if wanted is not None:
        missing = sorted(wanted - set(catalog.of("schema")))
        if missing:
            raise UsageError(f"no schema {', '.join(missing)} in the database")
    started = time.perf_counter()
    units = schema_units(ctx, wanted)
    project = project_document(ctx, units, wanted is not None)
    # what the imported schemas reference in those left out (importer/external.py)
    external = external_section(ctx, {u.schema for u in units}, wanted is not None)
    if external:
        project["external"] = {**project.get("external", {}), **external}
    for kind in UNDECLARABLE:
        for name in sorted(catalog.of(kind)):
            ctx.notes.lost(kind, name, "the whole object", "the YAML format has no such kind yet")
    if ctx.names.refused:
        listed = "\n  ".join(sorted(set(ctx.names.refused)))
        raise ImportRefused(
            "the YAML format cannot hold these objects (names must be lower-case identifiers, "
            f"routines and partitions named as the YAML keys them); nothing was written:\n  {listed}"
        )
    header = [schema_line(settings)]
    files: dict[str, str] = {}
    if project:
        files[PROJECT_UNIT] = dump_document(
            project,
            [*header, "", "Project-wide objects: extensions and the roles the schemas use."],
        )
    width = max(2, len(str(len(units))))
    for number, unit in enumerate(units, start=1):
        files[f"{number:0{width}d}_{file_safe(unit.schema)}.yaml"] = dump_document(
            unit.document, header
        )
        files.update(unit.bodies.files)
    result.seconds["write"] = time.perf_counter() - started
    result.losses = ctx.notes.sorted()
    result.counts = imported_counts(ctx, units, project)
    return files, result


def import_database(
    settings: Settings, db_url: str, schemas: list[str] | None = None
) -> ImportResult:
    """Write the database's schemas into the project's (empty) schema folder."""
    existing = existing_yaml(settings.schema_dir)
    if existing:
        raise UsageError(
            f"{settings.schema_dir} already holds YAML ({existing[0].name}, ...); import writes "
            "a new project's schema: run it in a new project, or move those files away first"
        )
    files, result = render_import(settings, db_url, schemas)
    for relative, text in files.items():
        path = settings.schema_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.written.append(path)
    return result


def existing_yaml(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
