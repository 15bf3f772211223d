"""External objects in shadow databases and comparisons (see schemac.external).

Every shadow database gets the external objects before anything else: stubs generated from
the declarations (roles if missing, schemas, enum or domain types, tables with their columns
and keys, functions that return NULL), and the project's `shadow_setup:` SQL file for what a
stub cannot express (an extension's type with modifiers, a view the platform keeps). Stubs are
the default because the declarations already say everything a reference needs, and they keep
shadows free of platform SQL nobody reviews; the file is the escape hatch.

A live database holds the real objects, richer than any stub: comparisons leave every
difference about an external object out (`without_external`); triggers and policies the
project declares on an external table stay in, being the project's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg

from schemac import model as m
from schemac.diagnostics import Diagnostic
from schemac.errors import InvalidInput
from schemac.external import ExternalObjects
from schemac.naming import free_dollar_tag, quote_ident, quote_literal
from schemac.objects import ObjectRef

# Kinds of ObjectRef that are members of a table but belong to the project when declared.
_MANAGED_MEMBERS = frozenset({"trigger", "policy"})


def _role(name: str) -> str:
    # Roles belong to the server and outlive the shadow database: create only where missing.
    tag = free_dollar_tag(name, "schemac")
    return (
        f"DO {tag} BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
        f"{quote_literal(name)}) THEN CREATE ROLE {quote_ident(name)} NOLOGIN; END IF; END {tag}"
    )


def _table(table: m.Table) -> str:
    parts = [
        f"{quote_ident(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in table.columns
    ]
    for con in table.constraints:
        keyword = "PRIMARY KEY" if con.kind == "primary_key" else "UNIQUE"
        parts.append(
            f"CONSTRAINT {quote_ident(con.name)} {keyword} "
            f"({', '.join(quote_ident(c) for c in con.columns)})"
        )
    return f"CREATE TABLE {table.qname.sql} ({', '.join(parts)})"


def _function(fn: m.Function) -> str:
    arguments = ", ".join(
        " ".join(p for p in (a.mode, quote_ident(a.name) if a.name else None, a.type) if p)
        for a in fn.arguments
    )
    returns = fn.returns or "void"
    returns_nothing = returns.lower() == "void" or returns.upper().startswith("SETOF ")
    body = "BEGIN RETURN; END" if returns_nothing else "BEGIN RETURN NULL; END"
    volatility = f" {fn.volatility.upper()}" if fn.volatility else ""
    return (
        f"CREATE FUNCTION {fn.qname.sql}({arguments}) RETURNS {returns} "
        f"LANGUAGE plpgsql{volatility} AS $schemac$ {body} $schemac$"
    )


def stub_statements(externals: ExternalObjects) -> list[str]:
    """The stubs in creation order; the setup file runs between schemas and types."""
    return [*_head(externals), *_body(externals)]


def _head(externals: ExternalObjects) -> list[str]:
    return [
        *(_role(r) for r in externals.roles),
        *(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(s)}" for s in externals.schemas),
    ]


def _body(externals: ExternalObjects) -> list[str]:
    statements: list[str] = []
    for ty in externals.types:
        if ty.qname in externals.stubless:
            continue
        if ty.enum is not None:
            values = ", ".join(quote_literal(v) for v in ty.enum)
            statements.append(f"CREATE TYPE {ty.qname.sql} AS ENUM ({values})")
        else:
            statements.append(f"CREATE DOMAIN {ty.qname.sql} AS {ty.like}")
    statements += [_table(t) for t in externals.tables if t.qname not in externals.stubless]
    statements += [_function(f) for f in externals.functions if f.qname not in externals.stubless]
    return statements


def shadow_key(digest: str, project: m.Project) -> str:
    """A shadow template's digest with the external stubs in it (unchanged without them)."""
    externals = project.external
    if externals is None or (externals.empty and externals.shadow_setup is None):
        return digest
    h = hashlib.sha256(digest.encode())
    for statement in stub_statements(externals):
        h.update(b"\0" + statement.encode())
    if externals.shadow_setup is not None:
        h.update(b"\1" + externals.shadow_setup.text.encode())
    return h.hexdigest()


def prepare_shadow(url: str, project: m.Project) -> None:
    """Create the external objects in a fresh shadow database (nothing when none are declared)."""
    externals = project.external
    if externals is None or (externals.empty and externals.shadow_setup is None):
        return
    setup = externals.shadow_setup
    with psycopg.connect(url, autocommit=True) as conn:
        _run(conn, _head(externals), "the external roles and schemas")
        if setup is not None:
            _run(conn, [setup.text], f"shadow_setup {setup.path.name}")
        _run(conn, _body(externals), "the stubs of the external objects")


def after_externals(project: m.Project, build: Callable[[str], None]) -> Callable[[str], None]:
    """``build`` of a shadow database, preceded by the external objects."""

    def built(url: str) -> None:
        prepare_shadow(url, project)
        build(url)

    return built


def _run(conn: psycopg.Connection[Any], statements: list[str], what: str) -> None:
    for statement in statements:
        try:
            conn.execute(statement)
        except psycopg.Error as error:
            message = f"PostgreSQL rejected {what} in a shadow database: {str(error).strip()}"
            raise InvalidInput([Diagnostic("E392", message, None)]) from None


def is_external(ref: ObjectRef | None, project: m.Project) -> bool:
    """Whether a difference's object is external (and so not the project's business)."""
    externals = project.external
    if ref is None or externals is None:
        return False
    if ref.table_name is not None and ref.schema is not None and ref.kind in _MANAGED_MEMBERS:
        # on an external table, only the triggers and policies the YAML declares are ours
        schema, table = ref.schema, ref.table_name
        if not externals.owns(schema, table):
            return False
        declared = {(t.table, t.name) for _, t in project.triggers}
        declared |= {(p.table, p.name) for _, p in project.policies}
        return (m.QName(schema, table), ref.name) not in declared
    if ref.kind == "schema":
        return ref.name in externals.schemas
    if ref.kind == "role":
        return ref.name in externals.roles
    if ref.table_name is not None:
        return externals.owns(ref.schema, ref.table_name)
    return externals.owns(ref.schema, ref.name.split("(", 1)[0])


def without_external(comparison: Any, project: m.Project) -> Any:
    """A `comparison.Comparison` without the differences about external objects."""
    if project.external is None or project.external.empty:
        return comparison
    kept = [d for d in comparison.differences if not is_external(d.ref, project)]

    def model_kept(differences: list[Any]) -> list[Any]:
        return [d for d in differences if not is_external(comparison.model_ref(d), project)]

    return replace(
        comparison,
        differences=kept,
        model=model_kept(comparison.model),
        warnings=model_kept(comparison.warnings),
    )
