"""How two databases differ: migra's statements, catalog facts, then the catalog models.

migra compares tables, columns, constraints, indexes, views, functions, triggers, policies,
enums, extensions and table privileges; :mod:`schemac.supplements` compares the catalog facts
migra leaves out; :mod:`schemac.catalog` compares the two models attribute by attribute, so a
difference neither migra nor the facts name is still found and named. Roles are compared as
model objects by :mod:`schemac.role_drift`. What each statement is about is read from its parse
tree (:mod:`schemac.sql.classify`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

from schemac.catalog import CatalogModel, ModelDifference, compare_models, read_catalog
from schemac.catalog.compare import WARNING
from schemac.errors import EnvironmentFailure, SchemacError, UsageError
from schemac.objects import ObjectRef, identity_ref, model_ref, statement_ref
from schemac.partition_plan import sub_partition_statement
from schemac.shadow import redact
from schemac.shadows import Steps, connect, first_line
from schemac.sql.classify import classify, describe
from schemac.sql.names import name_tokens
from schemac.sql.parse import SqlSyntaxError
from schemac.sql.rewrite import calls_as_true
from schemac.sql.statements import public_grantees, setting
from schemac.supplements import FactDifference, FactKey, compare_facts, read_facts


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise UsageError(f"expected a postgresql:// URL, got {redact(url)}")


def _read_only_url(url: str) -> str:
    """The URL with `-c default_transaction_read_only=on` added to any options it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = " ".join(v for k, v in query if k == "options")
    options = f"{options} -c default_transaction_read_only=on".strip()
    rest = [(k, v) for k, v in query if k != "options"]
    return urlunsplit(
        parts._replace(query=urlencode([*rest, ("options", options)], quote_via=quote))
    )


def migra_statements(
    from_url: str,
    to_url: str,
    *,
    privileges: bool = True,
    from_read_only: bool = False,
    kept: tuple[Path | None, Path | None] = (None, None),
    kept_statements: Path | None = None,
) -> list[str]:
    """migra's statements turning ``from_url`` into ``to_url`` (each stripped, ending in ';').

    ``kept``: for each side that is an unchanged template database, the file its inspection
    is kept in (:mod:`schemac.inspections`): read from there, or inspected and kept (the
    desired side only without ``kept_statements``). ``kept_statements``: when both sides are
    unchanged templates, the file the statements themselves are kept in (named after both
    templates): migra's whole run for the pair, read from there or run
    and kept.
    """
    from schemac import inspections

    found = inspections.load(kept_statements)
    if isinstance(found, list):
        return found
    statements = _migra_run(from_url, to_url, privileges, from_read_only, kept, kept_statements)
    inspections.store(kept_statements, statements)
    return statements


def _migra_run(
    from_url: str,
    to_url: str,
    privileges: bool,
    from_read_only: bool,
    kept: tuple[Path | None, Path | None],
    kept_statements: Path | None,
) -> list[str]:
    from migra import Migration
    from sqlbag import S

    source = sqlalchemy_url(from_url)
    if from_read_only:
        source = _read_only_url(source)
    try:
        # No connection pool: a pooled connection left open on a template database would
        # stop the next CREATE DATABASE ... TEMPLATE ("being accessed by other users").
        from sqlalchemy.pool import NullPool

        with (
            S(source, poolclass=NullPool) as from_session,
            S(sqlalchemy_url(to_url), poolclass=NullPool) as to_session,
        ):
            # Each inspection waits mostly on its server: the two run side by side.
            # Once the statements are kept, the desired side's inspection would not be read
            # again: it is not written (~0.3 s of pickling at 1,000 tables).
            keep = (True, kept_statements is None)
            with ThreadPoolExecutor(2) as pool:
                inspected = list(pool.map(_inspection, (from_session, to_session), kept, keep))
            migration = Migration(*inspected)
            migration.set_safety(False)
            migration.add_all_changes(privileges=privileges)
            raw = list(migration.statements)
    except Exception as error:  # SQLAlchemy wraps connection errors in its own types
        if "connect" in type(error).__name__.lower() or "OperationalError" in type(error).__name__:
            raise EnvironmentFailure(
                f"migra could not read the databases: {first_line(error)}"
            ) from None
        raise
    statements = []
    for statement in raw:
        try:
            statements += _cleaned(statement)
        except SqlSyntaxError as error:
            fixed = sub_partition_statement(to_url, statement)  # partition_plan.py
            if fixed is not None:
                statements.append(fixed)
                continue
            raise SchemacError(
                f"migra wrote a statement PostgreSQL's parser rejects ({error.error.message}): "
                f"{statement.strip()[:200]}"
            ) from None
    return statements


def _cleaned(statement: str) -> list[str]:
    """A migra statement as schemac runs it (none for a no-op), ending in a semicolon."""
    text = statement.strip()
    if not text or _is_no_op(text):
        return []
    # migra quotes the PUBLIC pseudo-role, which PostgreSQL then looks for as a real role.
    return [public_grantees(text).rstrip().removesuffix(";") + ";"]


def _is_no_op(statement: str) -> bool:
    """migra's ``SET check_function_bodies = off``, which starts its output: not a change."""
    return setting(statement) == ("check_function_bodies", ("off",))


# schemainspect copied these filters from information_schema: they hide function bodies and
# constraints from a role that does not own the objects, although the catalog shows them to
# everyone. Without them a read-only role sees the schema as its owner does. The filter is the
# call pg_has_role(<owner>, 'USAGE'); it is replaced by TRUE on the query's parse tree.
_OWNER_FILTER = ("pg_has_role", "USAGE")


@functools.cache
def without_owner_filters(query: str) -> str:
    """A schemainspect query without its owner-only filters; a query that has none is an error
    (schemainspect changed and the read-only comparison would again hide bodies)."""
    rewritten, replaced = calls_as_true(query, *_OWNER_FILTER)
    if not replaced:
        raise SchemacError("schemainspect's catalog query no longer filters by owner as expected")
    return rewritten


def _inspection(session: Any, kept: Path | None, keep: bool = True) -> Any:
    """schemainspect's inspection through ``session``, or as kept in ``kept`` (or read ahead
    for it); ``keep``: a fresh inspection is written to ``kept``."""
    from schemac import inspections

    found, fresh = inspections.taken(kept)
    if found is None:
        found, fresh = _catalog_inspector(session), True
    if fresh and keep and kept is not None:
        inspections.store(kept, inspections.detached(found))
    return found


def inspect_ahead(url: str, kept: Path | None) -> None:
    """Start schemainspect's inspection of the template database at ``url`` now, in a thread,
    kept in ``kept`` for the migra run to come (nothing when it is kept already)."""
    from schemac import inspections

    def inspect() -> Any:
        from sqlalchemy.pool import NullPool
        from sqlbag import S

        with S(sqlalchemy_url(url), poolclass=NullPool) as session:
            return inspections.detached(_catalog_inspector(session))

    inspections.read_ahead(kept, inspect)


def _catalog_inspector(session: Any) -> Any:
    from schemainspect.misc import connection_from_s_or_c
    from schemainspect.pg import PostgreSQL
    from sqlalchemy import text

    class CatalogInspector(PostgreSQL):  # type: ignore[misc]
        def load_all(self) -> None:
            for attribute in ("FUNCTIONS_QUERY", "CONSTRAINTS_QUERY"):
                query = getattr(self, attribute)
                setattr(self, attribute, text(without_owner_filters(query.text)))
            super().load_all()

    return CatalogInspector(connection_from_s_or_c(session))


@dataclass(frozen=True)
class Difference:
    """One way the current database differs from the desired one."""

    object: str  # e.g. "table core.users", "comment on view core.active_users"
    detail: str  # what differs: a migra statement, or the fact that differs
    statement: str | None = None  # the SQL that would fix it, when known
    ref: ObjectRef | None = None  # the object as data, for `objects.locate`


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    facts: list[FactDifference] = field(default_factory=list)
    # Every attribute the two catalog models differ in (errors), and what only warns
    # (a column order ALTER TABLE cannot reproduce): callers report ``warnings`` as warnings.
    model: list[ModelDifference] = field(default_factory=list)
    warnings: list[ModelDifference] = field(default_factory=list)
    # the desired and the current model, where a model difference's object is looked up
    models: tuple[CatalogModel, ...] = field(default=(), repr=False)

    def model_ref(self, difference: ModelDifference) -> ObjectRef:
        """The object a model difference is about, from the model object's own fields."""
        for model in self.models:
            obj = model.of(difference.kind).get(difference.name)
            if obj is not None:
                return model_ref(difference.kind, difference.name, obj)
        return ObjectRef(difference.kind, None, difference.name)

    @property
    def equal(self) -> bool:
        return not self.differences


def compare_databases(
    current_url: str,
    desired_url: str,
    *,
    privileges: bool = True,
    current_read_only: bool = False,
    skip_relations: tuple[str, ...] = (),
    ignore: Callable[[FactKey], bool] | None = None,
    ignore_model: Callable[[ModelDifference], bool] | None = None,
    steps: Steps | None = None,
    kept: tuple[Path | None, Path | None] = (None, None),
) -> Comparison:
    """How ``current_url`` differs from ``desired_url``: migra's statements, catalog facts, then
    the catalog models attribute by attribute (``ignore_model`` drops what the caller does not
    manage, e.g. owners on a live database); ``kept`` as for :func:`migra_statements`."""
    steps = steps or Steps()
    with steps.step("comparing comments, privileges and options", "facts"):
        with connect(current_url, autocommit=False) as conn:
            if current_read_only:
                conn.read_only = True
            current = read_facts(conn, skip_relations=skip_relations)
            current_model = read_catalog(conn, skip_relations=skip_relations)
            skipped = _skipped_names(conn, skip_relations)
            conn.rollback()
        with connect(desired_url, autocommit=False) as conn:
            desired = read_facts(conn)
            desired_model = read_catalog(conn)
            conn.rollback()
    with steps.step("diffing with migra", "migra"):
        statements = migra_statements(
            current_url,
            desired_url,
            privileges=privileges,
            from_read_only=current_read_only,
            kept=kept,
        )
    # Relations schemac does not manage (Flyway's history table), with their indexes and constraints.
    statements = [s for s in statements if not _about(s, skipped)]
    facts = compare_facts(current, desired, ignore)
    result = Comparison(facts=facts, models=(desired_model, current_model))
    result.differences = [
        Difference(describe_statement(s), s, s, statement_ref(s)) for s in statements
    ]
    result.differences += [
        Difference(f.key.label, f.detail(), ref=identity_ref(f.key.kind, f.key.identity))
        for f in facts
    ]
    found = compare_models(current_model, desired_model, ignore=ignore_model)
    result.warnings = [d for d in found if d.severity == WARNING]
    result.model = [d for d in found if d.severity != WARNING]
    result.differences += _not_yet_named(result, result.model)
    return result


_INDEXES_OF = """
SELECT i.relname FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY(%s)
"""


def _skipped_names(conn: psycopg.Connection[Any], relations: tuple[str, ...]) -> frozenset[str]:
    """The relations and the names of their indexes (a DROP INDEX does not name its table)."""
    if not relations:
        return frozenset()
    indexes = [row[0] for row in conn.execute(_INDEXES_OF, (list(relations),)).fetchall()]
    return frozenset((*relations, *indexes))


def _about(statement: str, names: frozenset[str]) -> bool:
    """Whether a statement targets, or belongs to a relation, named in ``names`` (unqualified)."""
    if not names:
        return False
    found = classify(statement)
    table = found.member_of[1] if found.member_of else None
    return found.name in names or table in names


def describe_statement(statement: str) -> str:
    """The object a migra statement is about: ``table core.users``, ``trigger touch on core.users``,
    ``constraint k on core.users``, ``privileges on core.users`` (from its parse tree)."""
    return describe(statement)


def _not_yet_named(result: Comparison, model: list[ModelDifference]) -> list[Difference]:
    """Model differences of objects migra and the facts did not name (theirs say more)."""
    labels = {_bare(d.object) for d in result.differences}
    return [
        Difference(d.object, d.detail(), ref=result.model_ref(d))
        for d in model
        if _bare(d.object) not in labels
    ]


def _bare(label: str) -> tuple[str, ...]:
    """An object's label without quotes and routine arguments, by parts (``function core.f``;
    "a.b".c is not a."b.c")."""
    return name_tokens(label.split("(", 1)[0])
