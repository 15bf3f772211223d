"""Stage 5, render: each node of the ordered graph through its Jinja template into SQL text.

Layout lives in the templates (the one each kind names in schemac.kinds, overridable per
project); quoting and literal rules live here as filters, so no template ever splices a name raw.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from schemac import kinds
from schemac import model as m
from schemac.analyse import Node
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.identity import options_sql
from schemac.naming import quote_ident, quote_literal
from schemac.sql.names import NameChainError, parse_name_chain

TEMPLATE_SUFFIX = ".sql.j2"
MACROS_TEMPLATE = "_macros" + TEMPLATE_SUFFIX
MACROS_NAME = "m"


def builtin_templates_dir() -> Path:
    """Templates ship inside the package; in a source checkout they live at the repository's top."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


_ROLE_KEYWORDS = {
    "public": "PUBLIC",
    "current_user": "CURRENT_USER",
    "current_role": "CURRENT_ROLE",
    "session_user": "SESSION_USER",
}


def _role(name: str) -> str:
    """Role names are quoted; PUBLIC and CURRENT_USER and friends are keywords, never quoted."""
    return _ROLE_KEYWORDS.get(name) or quote_ident(name)


def _privileges(privileges: tuple[str, ...]) -> str:
    return "ALL PRIVILEGES" if "all" in privileges else ", ".join(p.upper() for p in privileges)


def _setting_value(value: str) -> str:
    """`SET name TO 'a', 'b'`: one literal per comma-separated item.

    PostgreSQL quotes each item of a list setting such as search_path as an identifier when
    it stores it, and shows `"$user", public`; an item written that way is unquoted first, so
    the value as PostgreSQL shows it is also the value to write (`'$user'`, not `'"$user"'`,
    which would name a schema with quotes in its name)."""
    return ", ".join(quote_literal(_unquoted_item(part.strip())) for part in value.split(","))


def _unquoted_item(item: str) -> str:
    if len(item) >= 2 and item[0] == item[-1] == '"':
        return item[1:-1].replace('""', '"')
    return item


def _qualified(name: str) -> str:
    """`schema.name` or `name` written in SQL's syntax (operator classes: `"My Ops".my_ops`),
    each part quoted; a part may contain dots, so the text is read as a name chain, not split."""
    try:
        parts = parse_name_chain(name).parts
    except NameChainError:  # e.g. `app.MyOps` unquoted: as before, each dotted part quoted
        parts = tuple(name.split("."))
    return ".".join(quote_ident(part) for part in parts)


def _collation(name: str) -> str:
    """A collation: libc names carry dots (`en_US.utf8`), so only pg_catalog/public qualify."""
    schema, dot, rest = name.partition(".")
    if dot and schema in ("pg_catalog", "public"):
        return f"{quote_ident(schema)}.{quote_ident(rest)}"
    return quote_ident(name)


def _idents(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(quote_ident(n) for n in names)


def sql_literal(value: Any) -> str:
    """A YAML scalar (or structure, as JSON) as an SQL literal."""
    if value is m.MISSING:
        return "DEFAULT"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        # Bare `nan` or `inf` is no SQL; quoted, float and numeric columns read them (seeds.py
        # refuses them for every other type).
        return "'NaN'" if math.isnan(value) else ("'Infinity'" if value > 0 else "'-Infinity'")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        return quote_literal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    return quote_literal(str(value))


# Jinja keys compiled templates by their source only, not by the environment that compiled
# them: the pattern names the environment's version (finalize marks value newlines since 2).
COMPILED_TEMPLATE_PATTERN = "%s.env2.cache"


class _CompiledTemplateCache(jinja2.FileSystemBytecodeCache):
    """Templates compiled by an earlier run (in the project's .schemac/cache/templates). Jinja
    keys each entry by template file and checks it against the template's source and the
    Python version, so an edited template is compiled afresh. Compiling the templates costs
    more than rendering a thousand tables; an entry that cannot be read or written is simply
    not used."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def replica_identity_clause(value: str) -> str:
    from schemac.kinds.replica_identity import sql_clause  # kinds import this module

    return sql_clause(value)


def make_environment(
    override_dir: Path | None = None, compiled_dir: Path | None = None
) -> jinja2.Environment:
    """The Jinja environment: a project's own templates first, then the built-in ones;
    compiled templates kept in `compiled_dir` between runs when given."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # SQL, not HTML: quoting is done by the filters
        extensions=["jinja2.ext.do"],
        finalize=_finalize,
        auto_reload=False,  # a run never sees a template change; skips a stat per render
        bytecode_cache=(
            None
            if compiled_dir is None
            else _CompiledTemplateCache(str(compiled_dir), COMPILED_TEMPLATE_PATTERN)
        ),
    )
    env.filters.update(
        ident=quote_ident,
        qualified=_qualified,
        collation=_collation,
        idents=_idents,
        literal=quote_literal,
        role=_role,
        privileges=_privileges,
        setting_value=_setting_value,
        replica_identity=replica_identity_clause,  # kinds/replica_identity.py
        identity_options=options_sql,
    )
    return env


@dataclass(frozen=True)
class RenderedNode:
    node: Node
    sql: str


# Every value a template substitutes has its newlines replaced by this mark while the template
# output is tidied, so the tidy sees only the template's own lines and can drop every blank one
# without knowing SQL's quoting rules: a comment, default, query or body keeps its text byte for
# byte whatever precedes it. No value holds a NUL (the loader and limits.py refuse one).
VALUE_NEWLINE = "\x00"


class _Block(str):
    """The output of a shared macro: template lines (kept as lines) around marked values."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    """Jinja's hook on every `{{ ... }}` output: mark the newlines inside substituted values.
    A value's leading and trailing newlines are line breaks around it, tidied like the
    template's own (a view query ending in a `--` comment ends in one)."""
    if type(value) is _Block:
        return value
    text = value if isinstance(value, str) else str(value)
    if "\n" not in text:
        return text
    core = text.strip("\n")
    if not core:
        return text
    start = text.index(core)
    return text[:start] + core.replace("\n", VALUE_NEWLINE) + text[start + len(core) :]


class _Macros:
    """The shared macros (`m`), each returning a _Block so its own lines stay lines."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        macro = getattr(self._module, name)

        def call(*args: Any, **kwargs: Any) -> _Block:
            return _Block(macro(*args, **kwargs))

        setattr(self, name, call)
        return call


def _drop_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if line.strip())


def _tidy(text: str, keep: str | None) -> str:
    """Drop the blank lines templates leave behind (every blank line is the template's own, or
    a break around a value), never inside a dollar-quoted body; then give values their newlines
    back."""
    if keep and keep in text:
        head, body, tail = text.split(keep, 2)
        tidy = _drop_blank_lines(head) + keep + body + keep + _drop_blank_lines(tail).rstrip()
    else:
        tidy = _drop_blank_lines(text).strip("\n")
    return tidy.replace(VALUE_NEWLINE, "\n") + "\n"


class Renderer:
    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self._cache: dict[str, jinja2.Template] = {}

    def template(self, kind: str) -> jinja2.Template:
        if kind not in self._cache:
            if MACROS_NAME not in self.env.globals:
                # The shared macros are every template's `m`: an `{% import %}` in each
                # template would be redone on every render (a tenth of the render time).
                self.env.globals[MACROS_NAME] = _Macros(
                    self.env.get_template(MACROS_TEMPLATE).module
                )
            self._cache[kind] = self.env.get_template(kind + TEMPLATE_SUFFIX)
        return self._cache[kind]

    def render_object(self, kind: str, obj: Any, *, concurrently: bool = False) -> str:
        declared = kinds.BY_NAME[kind]
        assert declared.template is not None, f"{kind} is not rendered"
        dollar = declared.dollar(obj) if declared.dollar is not None else ""
        text = self.template(declared.template).render(
            obj=obj, dollar=dollar or "$$", concurrently=concurrently
        )
        return _tidy(text, dollar or None)

    def render_forms(self, kind: str, obj: Any) -> tuple[str, str | None]:
        """The object's SQL, and the CONCURRENTLY form of an index built that way."""
        concurrent = kinds.BY_NAME[kind].concurrent
        return (
            self.render_object(kind, obj),
            self.render_object(kind, obj, concurrently=True)
            if concurrent is not None and concurrent(obj)
            else None,
        )

    def render_seed(self, seed: m.SeedRows, identity_always: bool) -> str:
        rows = [[sql_literal(v) for v in row] for row in seed.rows]
        updates = [c for c in seed.columns if c not in seed.key]
        text = self.template(kinds.BY_NAME["seed"].template or "seed").render(
            obj=seed, rows=rows, updates=updates, overriding=identity_always
        )
        return _tidy(text, None)


def check_placeholders(sql: str, loc: SourceLocation | None, what: str) -> list[Diagnostic]:
    """Flyway replaces `${name}` everywhere in a file and fails on unknown names."""
    if "${" not in sql:
        return []
    return [
        Diagnostic(
            "E501",
            f"{what} would contain '${{', which Flyway treats as a placeholder",
            _placeholder_value(loc),
            hint="write it another way, e.g. '$' || '{' in SQL",
        )
    ]


def _placeholder_value(loc: SourceLocation | None) -> SourceLocation | None:
    """The YAML value holding the `${` inside the object at `loc` (the file is read again:
    this is the error path), else the object itself."""
    if loc is None:
        return None
    from schemac.loader import LocatedDict, LocatedList, load_file

    loaded = load_file(loc.path)
    if not loaded.documents:
        return loc

    def search(value: Any, inside: bool) -> SourceLocation | None:
        if isinstance(value, LocatedDict):
            for key, item in value.items():
                here = inside or loc[1:] in (
                    value.key_locations[key][1:],
                    value.value_locations[key][1:],
                )
                if here and isinstance(item, str) and "${" in item:
                    return value.value_locations[key]
                found = search(item, here)
                if found is not None:
                    return found
        elif isinstance(value, LocatedList):
            for index, item in enumerate(value):
                if inside and isinstance(item, str) and "${" in item:
                    return value.item_locations[index]
                found = search(item, inside)
                if found is not None:
                    return found
        return None

    return search(loaded.documents[0].data, False) or loc
