"""The pipeline in one place: load, validate, build, analyse, render. Nothing of generated/ is
written here (only the file cache, .schemac/cache)."""

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
from schemac.filecache import FileCache
from schemac.loader import Document, load_file
from schemac.node_keys import key_label
from schemac.project import Settings, discover_units, find_project_root, load_settings
from schemac.render import Renderer, check_placeholders, make_environment
from schemac.validate import validate_document


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


@dataclass
class LoadedProject:
    units: list[UnitInput]
    diagnostics: list[Diagnostic]
    parsed: list[tuple[str | None, Document]]  # (cache key or None, document) parsed this run
    all_keys: set[str]  # the cache key of every file in the project


def load_project_documents(settings: Settings, cache: FileCache) -> LoadedProject:
    """Every YAML file of the project: from the cache when its bytes were loaded and checked
    before, parsed otherwise."""
    loaded = LoadedProject([], [], [], set())
    for index, unit in enumerate(discover_units(settings.schema_dir, settings.root)):
        documents: list[Document] = []
        for path in unit.files:
            try:
                raw: bytes | None = path.read_bytes()
            except OSError:
                raw = None  # load_file reports it
            key = None
            if raw is not None:
                key = cache.key(raw)
                loaded.all_keys.add(key)
                remembered = cache.load(path, key)
                if remembered is not None:
                    documents.append(remembered)
                    continue
            result = load_file(path, raw)
            loaded.diagnostics.extend(result.diagnostics)
            documents.extend(result.documents)
            # A file with load errors is never cached: its diagnostics must show every run.
            key = None if result.diagnostics else key
            loaded.parsed.extend((key, document) for document in result.documents)
        loaded.units.append(UnitInput(index, unit.name, documents))
    return loaded


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


def _validate_project(
    settings: Settings,
) -> tuple[m.Project | None, list[Node], list[Diagnostic]]:
    cache = FileCache(settings.root)
    loaded = load_project_documents(settings, cache)
    diagnostics = list(loaded.diagnostics)
    clean: list[tuple[str, Document]] = []
    for key, document in loaded.parsed:
        found = validate_document(document)
        diagnostics += found
        if key is not None and not found:
            clean.append((key, document))
    cache.store(clean, loaded.all_keys)
    if diagnostics:
        return None, [], _sorted(diagnostics)
    return _build_and_analyse(settings, loaded.units)


def _build_and_analyse(
    settings: Settings, units: list[UnitInput]
) -> tuple[m.Project, list[Node], list[Diagnostic]]:
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
    templates_cache = FileCache(settings.root).templates_folder()
    renderer = Renderer(make_environment(settings.templates_dir, templates_cache))
    project, nodes, diagnostics = _validate_project(settings)
    if diagnostics or project is None:
        raise InvalidInput(diagnostics)
    objects: list[RenderedObject] = []
    concurrent: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for node in nodes:
        sql, concurrent_sql = renderer.render_forms(node.kind, node.obj)
        problems += check_placeholders(sql, node.loc, f"{node.kind} {key_label(node.key)}")
        if concurrent_sql is not None:
            concurrent[node.key] = concurrent_sql
        objects.append(RenderedObject(node, sql, concurrent_sql is None))
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
