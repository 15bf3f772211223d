"""What an object kind declares, once: the `Kind` record every stage reads.

A stage never lists kinds itself; it walks `schemac.kinds.KINDS` (creation order) and calls
what each kind declares. A field left at its default means the kind takes no part in that
stage (a catalog-only kind has no builder; a kind built by its parent has no section).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from schemac.analyse import Analyser, NameClaims
    from schemac.build import Builder
    from schemac.catalog.contents import CatalogModel
    from schemac.catalog.relations import Relations
    from schemac.diagnostics import SourceLocation
    from schemac.importer.context import Context
    from schemac.importer.units import SchemaUnit
    from schemac.loader import Document, LocatedDict
    from schemac.sqlfields import FieldChecker

# (builder, unit index, schema of the document or None, document): appends the kind's objects.
BuildStep = Callable[["Builder", int, "str | None", "Document"], None]
# (analyser, object): the node keys the object depends on (its schema is added for it).
EdgeStep = Callable[["Analyser", Any], "set[str]"]
# (analyser): every semantic check of the kind's objects, errors through analyser.error.
CheckStep = Callable[["Analyser"], None]
# (analyser, object, claims): the names the object takes (namespaces, identifier lengths).
NameStep = Callable[["Analyser", Any, "NameClaims"], None]
# object -> (type text, where it is written, schema of the object): for unknown-type errors.
TypeUses = Callable[[Any], "Iterable[tuple[str, SourceLocation | None, str]]"]
# (checker, document data): the SQL and typed fields of the kind's sections checked at their
# YAML positions (E310, E315, E317 to E319), before anything is built.
FieldStep = Callable[["FieldChecker", "LocatedDict"], None]
# (connection, model, reading): the kind's objects read from pg_catalog into the model.
ReadStep = Callable[["psycopg.Connection[Any]", "CatalogModel", "Reading"], None]


@dataclass
class Reading:
    """What catalog readers share during one read_catalog."""

    skipped: list[str]  # relation names schemac does not manage (Flyway's history table)
    relations: Relations | None = None  # set by the relations reader, used by later kinds


@dataclass(frozen=True)
class Comparison:
    """How compare_models compares the kind's catalog objects."""

    catalog_kinds: tuple[str, ...] = ()  # the names the catalog model files these objects under
    # Fields that say how the YAML was written, not what the database holds.
    not_compared: frozenset[str] = frozenset({"loc"})
    # A tuple field of sub-objects compared one by one: field -> singular label.
    parts: Mapping[str, str] = dataclass_field(default_factory=dict)
    # Parts compared by position (their name may be absent), not by name.
    positional: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Located:
    """Where a difference about one of the kind's objects is declared in the YAML
    (objects.locate: `check` reports it at that line)."""

    prefix: str  # the prefix of its objects' node keys (analyse.py): relation, type, ...
    # The kinds a difference names its objects with: migra's statement kinds,
    # pg_identify_object's types, the catalog model's kinds.
    words: tuple[str, ...]
    per_table: bool = False  # keyed prefix:schema.table.name (triggers, policies, ...)


@dataclass(frozen=True)
class Kind:
    """One object kind. `name` is its node kind, its template and its creation phase."""

    name: str
    field: str | None = None  # the m.Project field holding (unit, object) pairs
    project_wide: bool = False  # roles, extensions: before every schema, no `schema:` needed
    table_member: bool = (
        False  # created on a table (obj.table): index, foreign key, trigger, policy
    )
    sections: tuple[str, ...] = ()  # document keys that need a `schema:` (E302)
    type_sections: tuple[str, ...] = ()  # document sections whose names are types in the schema
    # (name, declared) -> the type names one entry of those sections brings, when more than its
    # own (a range type: its multirange too), so a column may name them unqualified
    type_names: Callable[[str, Any], Iterable[str]] | None = None
    build: BuildStep | None = None  # None: built by its parent kind, or not declarable
    # Its SQL and typed fields (a table member's are checked by its parent kind's step).
    fields: FieldStep | None = None
    # Run once every unit is built (references resolved against the whole project).
    finish: Callable[[Builder], None] | None = None
    # object -> (node kind, key) of each node it becomes; None: the kind is no node.
    nodes: Callable[[Any], Iterable[tuple[str, str]]] | None = None
    namespaces: tuple[str, ...] = ()  # how SQL text may name it: relation, type, function
    located: Located | None = None
    edges: EdgeStep | None = None
    check: CheckStep | None = None
    names: NameStep | None = None
    types: TypeUses | None = None
    template: str | None = None  # file under templates/ without .sql.j2; None: not rendered
    dollar: Callable[[Any], str] | None = None  # the dollar quote its template gets
    concurrent: Callable[[Any], bool] | None = None  # also rendered CONCURRENTLY when true
    # GRANT on it: (the kind's word in GRANT's error, privileges it takes)
    privileges: tuple[str, frozenset[str]] | None = None
    reader: ReadStep | None = None
    # pg_identify_object's type of the objects `reader` reads: the `other` kind leaves out
    # "<type> <name>" for each of them.
    other_type: str | None = None
    comparison: Comparison = dataclass_field(default_factory=Comparison)
    # The object as `schemac import` writes it: the objects of its n-th catalog kind under its
    # n-th section. Without a hook, a table member or partition is written by the table, roles,
    # extensions and schemas by importer/units.py, a kind with no `field` reported as lost.
    import_yaml: Callable[[Context, Any], Any] | None = None
    # Instead, for a kind whose objects need their unit (a table's members, body files, the
    # schemas a unit depends on): its sections of one unit, section -> name -> YAML.
    import_unit: Callable[[Context, SchemaUnit], Mapping[str, Any]] | None = None
    # The `*_grants` section where import moves what every object of the unit grants.
    grants_section: str | None = None
    # A kind migra does not diff: (current, desired connection) -> the statements that make the
    # current database's objects of the kind like the desired one's (kinds/migrating.py).
    migrate: Callable[[psycopg.Connection[Any], psycopg.Connection[Any]], list[str]] | None = None
    migrate_after_migra: bool = False  # run after migra's statements (tables exist), not before
