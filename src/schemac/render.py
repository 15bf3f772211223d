"""Stage 5, render: each node of the ordered graph through its Jinja template into SQL text.

Layout lives in the templates (one per object kind, overridable per project); quoting and
literal rules live here as filters, so no template ever splices a name raw.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from schemac import model as m
from schemac.analyse import Node
from schemac.diagnostics import Diagnostic, SourceLocation
from schemac.naming import quote_ident, quote_literal

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
    return ", ".join(quote_literal(part.strip()) for part in value.split(","))


def _qualified(name: str) -> str:
    """`schema.name` or `name`, each part quoted (operator classes)."""
    return ".".join(quote_ident(part) for part in name.split("."))


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
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        return quote_literal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    return quote_literal(str(value))


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
        auto_reload=False,  # a run never sees a template change; skips a stat per render
        bytecode_cache=(
            None if compiled_dir is None else _CompiledTemplateCache(str(compiled_dir), "%s.cache")
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
    )
    return env


@dataclass(frozen=True)
class RenderedNode:
    node: Node
    sql: str


def dollar_tag(body: str) -> str:
    """A dollar quote that does not occur in the body."""
    tag = "$body$"
    n = 0
    while tag in body:
        n += 1
        tag = f"$body{n}$"
    return tag


def _drop_blank_lines(text: str) -> str:
    """Remove the empty lines templates leave behind, but never one inside a '...' literal
    (a multi-paragraph comment or default keeps its blank lines). '' inside a literal is an
    escaped quote and keeps the count even."""
    lines = text.split("\n")
    if "'" not in text:  # no literal anywhere: every blank line goes
        return "\n".join(line for line in lines if line.strip())
    kept: list[str] = []
    in_literal = False
    for line in lines:
        if in_literal or line.strip():
            kept.append(line)
        if "'" in line:
            in_literal = _ends_in_literal(line, in_literal)
    return "\n".join(kept)


_QUOTE_OR_COMMENT = re.compile(r"'|--")


def _ends_in_literal(line: str, in_literal: bool) -> bool:
    """Whether a '...' literal is still open after `line` (a -- comment outside one ends the line)."""
    for match in _QUOTE_OR_COMMENT.finditer(line):
        if match.group() == "'":
            in_literal = not in_literal
        elif not in_literal:
            break
    return in_literal


def _tidy(text: str, keep: str | None) -> str:
    """Drop the blank lines templates leave behind, never inside a dollar-quoted body."""
    if keep and keep in text:
        head, body, tail = text.split(keep, 2)
        return (
            _drop_blank_lines(head) + keep + body + keep + _drop_blank_lines(tail).rstrip() + "\n"
        )
    return _drop_blank_lines(text).strip("\n") + "\n"


class Renderer:
    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self._cache: dict[str, jinja2.Template] = {}

    def template(self, kind: str) -> jinja2.Template:
        if kind not in self._cache:
            if MACROS_NAME not in self.env.globals:
                # The shared macros are every template's `m`: an `{% import %}` in each
                # template would be redone on every render (a tenth of the render time).
                self.env.globals[MACROS_NAME] = self.env.get_template(MACROS_TEMPLATE).module
            self._cache[kind] = self.env.get_template(kind + TEMPLATE_SUFFIX)
        return self._cache[kind]

    def render_object(self, kind: str, obj: Any, *, concurrently: bool = False) -> str:
        dollar = ""
        if kind == "function":
            dollar = dollar_tag(obj.body)
        elif kind == "role":
            dollar = "$role$"
        text = self.template(kind).render(obj=obj, dollar=dollar or "$$", concurrently=concurrently)
        return _tidy(text, dollar or None)

    def render_forms(self, kind: str, obj: Any) -> tuple[str, str | None]:
        """The object's SQL, and the CONCURRENTLY form of an index built that way."""
        concurrent = kind == "index" and obj.concurrently
        return (
            self.render_object(kind, obj),
            self.render_object(kind, obj, concurrently=True) if concurrent else None,
        )

    def render_seed(self, seed: m.SeedRows, identity_always: bool) -> str:
        rows = [[sql_literal(v) for v in row] for row in seed.rows]
        updates = [c for c in seed.columns if c not in seed.key]
        text = self.template("seed").render(
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
            loc,
            hint="write it another way, e.g. '$' || '{' in SQL",
        )
    ]
