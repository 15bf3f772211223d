"""The pipeline in one place: load, validate, build, analyse, render. Nothing of generated/ is
written here (only the file cache, .schemac/cache)."""

from __future__ import annotations

import gc
import mmap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from schemac import model as m
from schemac.analyse import Node, analyse, node_sources
from schemac.build import UnitInput, build_project
from schemac.diagnostics import Diagnostic
from schemac.errors import InvalidInput, UsageError
from schemac.filecache import FileCache, pack, unpack
from schemac.loader import Document, LoadResult, load_file
from schemac.parallel import Background
from schemac.project import Settings, discover_units, find_project_root, load_settings
from schemac.render import Renderer, check_placeholders, make_environment
from schemac.validate import validate_document

# Below these sizes a second process costs more than it saves (a fork takes about 10 ms).
PARALLEL_LOAD_BYTES = 256 * 1024  # of YAML to parse (not in the cache)
PARALLEL_VALIDATE_BYTES = 256 * 1024
CHILD_LOAD_SHARE = 0.38  # parse + pack there takes as long as parse of the rest here
PARALLEL_RENDER_NODES = 1000


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
    unchecked: list[Document]  # parsed this run: the JSON Schema check has not seen them yet
    cache_keys: list[str | None]  # per unchecked document; None: it had load errors, never cached
    all_keys: set[str]  # the cache key of every file in the project
    parsed_bytes: int = 0  # the size of the files parsed this run


@dataclass
class _ToParse:
    path: Path
    raw: bytes | None
    key: str | None
    result: LoadResult | None = None


def load_project_documents(settings: Settings, cache: FileCache) -> LoadedProject:
    """Every YAML file of the project: from the cache when its bytes were loaded and checked
    before, parsed otherwise."""
    loaded = LoadedProject([], [], [], [], set())
    slots: list[tuple[int, str, list[Document | _ToParse]]] = []
    to_parse: list[_ToParse] = []
    for index, unit in enumerate(discover_units(settings.schema_dir, settings.root)):
        unit_slots: list[Document | _ToParse] = []
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
                    unit_slots.append(remembered)
                    continue
            pending = _ToParse(path, raw, key)
            unit_slots.append(pending)
            to_parse.append(pending)
        slots.append((index, unit.name, unit_slots))
    loaded.parsed_bytes = sum(len(p.raw or b"") for p in to_parse)
    _parse(to_parse, loaded.parsed_bytes)
    for index, name, unit_slots in slots:
        documents: list[Document] = []
        for slot in unit_slots:
            if isinstance(slot, Document):
                documents.append(slot)
                continue
            result = slot.result
            assert result is not None
            loaded.diagnostics.extend(result.diagnostics)
            documents.extend(result.documents)
            loaded.unchecked.extend(result.documents)
            key = None if result.diagnostics else slot.key
            loaded.cache_keys.extend([key] * len(result.documents))
        loaded.units.append(UnitInput(index, name, documents))
    return loaded


def _parse(files: list[_ToParse], total_bytes: int) -> None:
    """Parse each file into its `result`. Many bytes to parse: the last files (CHILD_LOAD_SHARE
    of the bytes) are parsed on the second core meanwhile and come back packed as the file
    cache packs them: unpacking costs a fifth of parsing, and packing is the child's."""
    first_for_child = len(files)
    if total_bytes >= PARALLEL_LOAD_BYTES:
        share = 0
        while first_for_child > 1 and share < total_bytes * CHILD_LOAD_SHARE:
            first_for_child -= 1
            share += len(files[first_for_child].raw or b"")
    child_share = files[first_for_child:]
    parsed_there = Background(
        lambda: [_parse_packed(item) for item in child_share], fork=bool(child_share)
    )
    for item in files[:first_for_child]:
        item.result = load_file(item.path, item.raw)
    for item, packed in zip(child_share, parsed_there.result(), strict=True):
        item.result = _unpacked(item, packed)


def _parse_packed(item: _ToParse) -> tuple[list[Diagnostic], bytes | None, bool]:
    """(load diagnostics, the document packed, whether there is a document) of one file."""
    result = load_file(item.path, item.raw)
    if not result.documents:
        return result.diagnostics, None, False
    return result.diagnostics, pack(result.documents[0].data), True


def _unpacked(item: _ToParse, packed: tuple[list[Diagnostic], bytes | None, bool]) -> LoadResult:
    diagnostics, payload, has_document = packed
    if not has_document:
        return LoadResult([], diagnostics)
    if payload is None:  # a value packing cannot hold: parse it here after all
        return load_file(item.path, item.raw)
    return LoadResult([Document(item.path, unpack(payload, item.path), "")], diagnostics)


def _schema_check(documents: list[Document]) -> tuple[list[Diagnostic], list[int]]:
    """The JSON Schema diagnostics of `documents`, and the positions of those that passed."""
    diagnostics: list[Diagnostic] = []
    passed: list[int] = []
    for position, document in enumerate(documents):
        found = validate_document(document)
        diagnostics += found
        if not found:
            passed.append(position)
    return diagnostics, passed


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
    on_built: Callable[[m.Project], None] | None = None,
    before_check: Callable[[], None] | None = None,
) -> tuple[m.Project | None, list[Node], list[Diagnostic]]:
    cache = FileCache(settings.root)
    loaded = load_project_documents(settings, cache)
    units, unchecked = loaded.units, loaded.unchecked

    def remember(checked: tuple[list[Diagnostic], list[int]]) -> None:
        clean = [(loaded.cache_keys[i], unchecked[i]) for i in checked[1]]
        cache.store([(key, document) for key, document in clean if key], loaded.all_keys)

    if loaded.diagnostics or loaded.parsed_bytes < PARALLEL_VALIDATE_BYTES:
        checked = _schema_check(unchecked)
        remember(checked)
        diagnostics = loaded.diagnostics + checked[0]
        if diagnostics:
            return None, [], _sorted(diagnostics)
        return _build_and_analyse(settings, units, on_built)

    # A large change: the JSON Schema check (then writing the cache) runs on the second core
    # while this one builds and analyses on the assumption that it will pass. If it does not,
    # what was built from invalid input (and anything that failed on it) is thrown away: the
    # author sees the schema errors, exactly as without the second core.
    def prepare_and_check() -> tuple[list[Diagnostic], list[int]]:
        if before_check is not None:
            before_check()
        return _schema_check(unchecked)

    schema_check = Background(prepare_and_check, then=remember)
    try:
        result = _build_and_analyse(settings, units, on_built)
    except Exception:
        if schema_errors := schema_check.result()[0]:
            return None, [], _sorted(schema_errors)
        raise
    if schema_errors := schema_check.result()[0]:
        return None, [], _sorted(schema_errors)
    return result


def _build_and_analyse(
    settings: Settings, units: list[UnitInput], on_built: Callable[[m.Project], None] | None
) -> tuple[m.Project, list[Node], list[Diagnostic]]:
    built = build_project(settings, units)
    if on_built is not None:
        on_built(built.project)
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
    ahead = _RenderAhead(renderer)
    # Where the schema check runs on the second core, that core first compiles the templates
    # into the cache, so that this one finds them compiled when the model is built.
    compile_templates = None if templates_cache is None else renderer.compile_all
    try:
        project, nodes, diagnostics = _validate_project(settings, ahead.start, compile_templates)
        if diagnostics or project is None:
            raise InvalidInput(diagnostics)
        rendered = ahead.collect()
    finally:
        ahead.discard()
    objects: list[RenderedObject] = []
    concurrent: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for node in nodes:
        forms = rendered.get((node.kind, id(node.obj)))
        sql, concurrent_sql = forms or renderer.render_forms(node.kind, node.obj)
        problems += check_placeholders(sql, node.loc, f"{node.kind} {node.key.split(':', 1)[1]}")
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


_CLAIMED_BY_CHILD = 1
_CLAIMED_BY_PARENT = 2

_Forms = tuple[str, str | None]


class _RenderAhead:
    """In a large project, the second core renders objects from the first one on, starting as
    soon as the model is built; this core analyses meanwhile and then renders from the last
    one back, until the two meet. Each object is claimed in a byte of memory both processes
    share, so the split adapts to however fast each side is. Two that claim the same object at
    once both render it: the text depends on nothing but the object, so the split never shows
    in the output. If analysis finds errors, what was rendered is thrown away."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.sources: list[tuple[str, Any]] = []
        self.claims = mmap.mmap(-1, 1)
        self.job: Background[list[_Forms]] | None = None

    def start(self, project: m.Project) -> None:
        sources = [(kind, obj) for kind, _, _, obj in node_sources(project)]
        if len(sources) < PARALLEL_RENDER_NODES:
            return
        # Compiled here, before the fork, so that both processes have them (compiling a
        # template costs more than rendering it a hundred times).
        for kind in {kind for kind, _ in sources}:
            self.renderer.template(kind)
        self.sources = sources
        self.claims = mmap.mmap(-1, len(sources))  # anonymous and shared with the child
        self.job = Background(self._render_from_the_first)

    def _render_from_the_first(self) -> list[_Forms]:
        """The forms of objects 0, 1, ... up to the first one the parent has claimed. (Should
        the child fail, the parent runs this itself, ignoring the child's claims.)"""
        claims, render = self.claims, self.renderer.render_forms
        rendered: list[_Forms] = []
        for index, (kind, obj) in enumerate(self.sources):
            if claims[index] == _CLAIMED_BY_PARENT:
                break
            claims[index] = _CLAIMED_BY_CHILD
            rendered.append(render(kind, obj))
        return rendered

    def collect(self) -> dict[tuple[str, int], _Forms]:
        """(kind, id of the object) -> its SQL forms, for every object of the project."""
        if self.job is None:
            return {}
        claims, render = self.claims, self.renderer.render_forms
        mine: dict[int, _Forms] = {}
        for index in range(len(self.sources) - 1, -1, -1):
            if claims[index] == _CLAIMED_BY_CHILD:
                break
            claims[index] = _CLAIMED_BY_PARENT
            mine[index] = render(*self.sources[index])
        job, self.job = self.job, None
        theirs = job.result()
        forms: dict[tuple[str, int], _Forms] = {}
        for index, (kind, obj) in enumerate(self.sources):
            found = mine.get(index) or (theirs[index] if index < len(theirs) else None)
            forms[(kind, id(obj))] = found or render(kind, obj)
        self.claims.close()
        return forms

    def discard(self) -> None:
        if self.job is not None:
            self.job.discard()
            self.job = None


def open_project(project_dir: Path | None = None) -> Settings:
    """Settings of the project containing `project_dir` (default: the current directory)."""
    return load_settings(find_project_root(project_dir))
