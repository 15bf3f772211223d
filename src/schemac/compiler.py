"""The pipeline in one place: load, validate, build, analyse, render. No files are written here."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from schemac import model as m
from schemac.analyse import Node, analyse
from schemac.build import UnitInput, build_project
from schemac.diagnostics import Diagnostic
from schemac.errors import InvalidInput, UsageError
from schemac.loader import Document, load_file
from schemac.project import Settings, discover_units, find_project_root, load_settings
from schemac.render import Renderer, check_placeholders, make_environment
from schemac.validate import validate_documents


@dataclass(frozen=True)
class RenderedObject:
    node: Node
    sql: str  # as created in the desired state (never CONCURRENTLY)
    transactional: bool  # False: CREATE INDEX CONCURRENTLY, which Flyway must run on its own


@dataclass
class Compiled:
    """Everything the YAML compiles to, in creation order."""

    settings: Settings
    project: m.Project
    objects: list[RenderedObject]
    concurrent_sql: dict[str, str]  # node key -> SQL of the CONCURRENTLY form
    seeds: list[tuple[int, str, str]] = field(default_factory=list)  # (unit, schema, SQL)


def load_project_documents(settings: Settings) -> tuple[list[UnitInput], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    units: list[UnitInput] = []
    for index, unit in enumerate(discover_units(settings.schema_dir)):
        documents: list[Document] = []
        for path in unit.files:
            loaded = load_file(path)
            diagnostics.extend(loaded.diagnostics)
            documents.extend(loaded.documents)
        units.append(UnitInput(index, unit.name, documents))
    return units, diagnostics


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The loader allocates many small objects that all live to the end of the run; the cyclic
    garbage collector would walk them again and again (3x the load time at 5,000 tables)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_project(settings: Settings) -> tuple[m.Project | None, list[Node], list[Diagnostic]]:
    """Every check schemac makes before it renders; all problems, not only the first."""
    with _collector_paused():
        return _validate_project(settings)


def _validate_project(settings: Settings) -> tuple[m.Project | None, list[Node], list[Diagnostic]]:
    units, diagnostics = load_project_documents(settings)
    all_documents = [d for u in units for d in u.documents]
    schema_errors = validate_documents(all_documents)
    diagnostics.extend(schema_errors)
    if diagnostics:
        return None, [], _sorted(diagnostics)
    built = build_project(settings, units)
    # Build errors are local to one object, so analysis still runs: the author sees every
    # problem at once rather than one stage at a time.
    analysis = analyse(built.project)
    return built.project, analysis.nodes, _sorted(built.diagnostics + analysis.diagnostics)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def compile_project(settings: Settings) -> Compiled:
    """Validate and render; raises InvalidInput with every diagnostic when the YAML is wrong."""
    with _collector_paused():
        try:
            return _compile_project(settings)
        except jinja2.TemplateError as exc:  # a project's own template override is broken
            where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "a template"
            line = getattr(exc, "lineno", None)
            raise UsageError(f"{where}{f':{line}' if line else ''}: {exc.message}") from exc


def _compile_project(settings: Settings) -> Compiled:
    project, nodes, diagnostics = _validate_project(settings)
    if diagnostics or project is None:
        raise InvalidInput(diagnostics)
    renderer = Renderer(make_environment(settings.templates_dir))
    objects: list[RenderedObject] = []
    concurrent: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for node in nodes:
        sql = renderer.render_node(node)
        problems += check_placeholders(sql, node.loc, f"{node.kind} {node.key.split(':', 1)[1]}")
        is_concurrent = node.kind == "index" and node.obj.concurrently
        if is_concurrent:
            concurrent[node.key] = renderer.render_node(node, concurrently=True)
        objects.append(RenderedObject(node, sql, not is_concurrent))
    tables = {t.qname: t for _, t in project.tables}
    seeds: list[tuple[int, str, str]] = []
    unit_of_table = {n.obj.qname: n.unit for n in nodes if n.kind == "table"}
    for _, seed in project.seeds:
        table = tables[seed.table]
        identity_always = any(
            c.identity == "always" and c.name in seed.columns for c in table.columns
        )
        sql = renderer.render_seed(seed, identity_always)
        problems += check_placeholders(sql, seed.loc, f"seed of {seed.table}")
        seeds.append((unit_of_table.get(seed.table, 0), seed.table.schema, sql))
    if problems:
        raise InvalidInput(_sorted(problems))
    return Compiled(settings, project, objects, concurrent, seeds)


def open_project(project_dir: Path | None = None) -> Settings:
    """Settings of the project containing `project_dir` (default: the current directory)."""
    return load_settings(find_project_root(project_dir))
