"""Shadow B by clone-and-patch: the last desired-state template cloned, only what changed rebuilt.

A fresh shadow B runs every object of the YAML (about 4 s of server work at 1,000 tables). After
one edit most of it is what the previous B already holds. Each B template therefore keeps a
*manifest* beside it (``.schemac/cache/desired-manifests/<template>``): per compiled object its
node key, kind, the digest of its SQL, the statement that drops it and the nodes it depends on,
in creation order. A new desired state is built from the newest B on the server that has a
manifest: the objects whose SQL changed or that are gone, and every object depending on them
by the old or the new graph, are dropped (plain RESTRICT drops, dependants first), then those
and the new objects created in the new creation order, all in one transaction.

It falls back to a fresh build whenever it cannot be sure (:class:`PatchRefused`, with the
reason): roles, extensions, default privileges, publications or any kind without a drop
statement in the patch; a default privilege created after a re-created object (the object
would get defaults a fresh build does not give); something PostgreSQL drops along with a
dropped relation that is another object of the old B not itself dropped (indexes,
constraints, triggers, policies, partitions, owned sequences), a publication membership or an
extended statistic on it, a replica identity or cluster index dropped from a kept table; any
PostgreSQL error during the patch; a patch larger than a third of the objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from schemac.compiler import Compiled, RenderedObject
from schemac.external_shadow import shadow_key
from schemac.migrations import SHADOW_FORMAT
from schemac.naming import quote_ident
from schemac.node_keys import key_label, key_parts, node_key
from schemac.shadow import TEMPLATE_PREFIX, PostgresServer

_FOLDER = Path(".schemac") / "cache" / "desired-manifests"
_MANIFESTS_KEPT = 12
_FORMAT = 2
# Beyond this share of the objects re-created, a fresh build costs about as much as the patch.
PATCH_SHARE_LIMIT = 1 / 3
# SCHEMAC_NO_PATCH=1: always build shadow B fresh (for measurements and to rule the patch out).
NO_PATCH_VARIABLE = "SCHEMAC_NO_PATCH"


class PatchRefused(Exception):
    """The patch cannot be sure to build what a fresh build would: build fresh (the reason)."""


@dataclass(frozen=True)
class Entry:
    """One compiled object as its template holds it."""

    key: str
    kind: str
    digest: str  # of its SQL
    # The statement that drops it where the node key does not say it (a routine's argument
    # types, a view materialized or not); see drop_statement.
    drop: str | None
    deps: tuple[str, ...]  # node keys of the template's objects it depends on

    @property
    def names(self) -> list[str]:
        """The quoted parts of its name (schema, [table,] name), from its node key."""
        return [quote_ident(part) for part in key_parts(self.key)]

    @property
    def relation(self) -> str | None:
        """Its SQL name for a relation or an index (checked before it is dropped)."""
        return ".".join(self.names) if self.kind in _RELATION_KINDS else None


@dataclass(frozen=True)
class Manifest:
    base: str  # what every shadow B starts from: the format, the external objects' stubs
    entries: tuple[Entry, ...]  # in creation order

    def keys(self) -> dict[str, Entry]:
        return {entry.key: entry for entry in self.entries}


# -- the manifest ---------------------------------------------------------------------------------

_RELATION_KINDS = frozenset({"table", "partition", "view", "index"})
# Plain (RESTRICT) drops by kind, of the object named by its node key's parts.
_DROPS = {
    "table": "DROP TABLE {}",
    "partition": "DROP TABLE {}",
    "index": "DROP INDEX {}",
    "sequence": "DROP SEQUENCE {}",
    "seqowner": "ALTER SEQUENCE {} OWNED BY NONE",
    "enum": "DROP TYPE {}",
    "composite": "DROP TYPE {}",
    "range": "DROP TYPE {}",
    "domain": "DROP DOMAIN {}",
    "schema": "DROP SCHEMA {}",
}
# ... and of an object on a table (key parts schema, table, name).
_DROPS_ON_TABLE = {
    "fk": "ALTER TABLE {table} DROP CONSTRAINT {name}",
    "trigger": "DROP TRIGGER {name} ON {table}",
    "policy": "DROP POLICY {name} ON {table}",
}


def _named_drop(obj: RenderedObject) -> str | None:
    """The drop statement of the kinds whose node key does not say everything it needs."""
    kind, item = obj.node.kind, obj.node.obj
    if kind == "view":
        word = "MATERIALIZED VIEW" if item.materialized else "VIEW"
        return f"DROP {word} {item.qname.sql}"
    if kind == "function":
        arguments = ", ".join(f"{a.mode or ''} {a.type}".strip() for a in item.arguments)
        return f"DROP ROUTINE {item.qname.sql}({arguments})"
    if kind == "aggregate":
        return f"DROP AGGREGATE {item.qname.sql}({', '.join(item.args) or '*'})"
    return None


def drop_statement(entry: Entry) -> str | None:
    """The plain (RESTRICT) statement that drops ``entry``; None for the kinds not patched
    (roles, extensions, default privileges, publications: a fresh build)."""
    if entry.drop is not None:
        return entry.drop
    if entry.kind in _DROPS:
        return _DROPS[entry.kind].format(".".join(entry.names))
    if entry.kind in _DROPS_ON_TABLE:
        schema, table, name = entry.names
        return _DROPS_ON_TABLE[entry.kind].format(table=f"{schema}.{table}", name=name)
    return None


def manifest_of(compiled: Compiled) -> Manifest:
    base = shadow_key(f"desired/{SHADOW_FORMAT}", compiled.project)
    keys = {obj.node.key for obj in compiled.objects}
    entries = [
        Entry(
            obj.node.key,
            obj.node.kind,
            hashlib.sha256(obj.sql.encode("utf-8")).hexdigest()[:32],
            _named_drop(obj),
            tuple(sorted(keys.intersection(obj.node.deps))),
        )
        for obj in compiled.objects
    ]
    return Manifest(base, tuple(entries))


def manifests_folder(project_root: Path) -> Path:
    return project_root / _FOLDER


def _manifest_path(folder: Path, template: str) -> Path:
    return folder / f"{template}.manifest"


def keep_manifest(folder: Path, template: str, manifest: Manifest) -> None:
    """Write ``template``'s manifest (once; best effort: a B without one is only built fresh)."""
    path = _manifest_path(folder, template)
    if path.exists():
        return
    index = {entry.key: i for i, entry in enumerate(manifest.entries)}
    rows = [[e.key, e.kind, e.digest, e.drop, [index[d] for d in e.deps]] for e in manifest.entries]
    data = zlib.compress(
        json.dumps({"format": _FORMAT, "base": manifest.base, "entries": rows}).encode(), 1
    )
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
        _prune(folder)


def read_manifest(folder: Path, template: str) -> Manifest | None:
    """The manifest kept for ``template``; None when there is none or it does not read."""
    try:
        data = json.loads(zlib.decompress(_manifest_path(folder, template).read_bytes()))
        if data.get("format") != _FORMAT:
            return None
        rows = data["entries"]
        keys = [row[0] for row in rows]
        return Manifest(
            str(data["base"]),
            tuple(
                Entry(k, kind, d, drop, tuple(keys[i] for i in deps))
                for k, kind, d, drop, deps in rows
            ),
        )
    except (OSError, ValueError, zlib.error, KeyError, TypeError, IndexError, AttributeError):
        return None


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.manifest"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[_MANIFESTS_KEPT:]:
        with contextlib.suppress(OSError):
            old.unlink()


def patching_enabled() -> bool:
    return os.environ.get(NO_PATCH_VARIABLE, "").strip() in ("", "0")


# -- the patch ------------------------------------------------------------------------------------

# Server-wide objects whose SQL a fresh build runs again on every B (create-if-missing, then
# comments and memberships): run again by the patch too, so the server is left the same.
_RUN_AGAIN = frozenset({"role"})


@dataclass(frozen=True)
class Patch:
    source: str  # the template cloned
    drops: tuple[Entry, ...]  # dependants first
    creates: tuple[str, ...]  # node keys, in the new creation order
    runs_again: tuple[str, ...]  # node keys of the server-wide objects run again first


def _dependants(manifest: Manifest, seeds: set[str]) -> set[str]:
    """``seeds`` and every object that depends on one of them, directly or not."""
    users: dict[str, list[str]] = {}
    for entry in manifest.entries:
        for dep in entry.deps:
            users.setdefault(dep, []).append(entry.key)
    found, todo = set(seeds), list(seeds)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in found:
                found.add(user)
                todo.append(user)
    return found


def plan_patch(source: str, old: Manifest, new: Manifest) -> Patch:
    """What to drop from ``old``'s template and create for ``new``; PatchRefused when unsure."""
    if old.base != new.base:
        raise PatchRefused("the external objects or the shadow format changed")
    old_by, new_by = old.keys(), new.keys()
    changed = {
        key
        for key, entry in new_by.items()
        if key in old_by and (old_by[key].digest, old_by[key].kind) != (entry.digest, entry.kind)
    }
    gone = old_by.keys() - new_by.keys()
    added = new_by.keys() - old_by.keys()
    dropped = (_dependants(old, changed | gone) | _dependants(new, changed | gone | added)) & set(
        old_by
    )
    created = (dropped & new_by.keys()) | added
    for key in sorted(dropped | created):
        entry = old_by[key] if key in dropped else new_by[key]
        if drop_statement(entry) is None or (key in new_by and drop_statement(new_by[key]) is None):
            raise PatchRefused(f"{entry.kind} {key_label(key)} changed (only a fresh build)")
    if len(created) > PATCH_SHARE_LIMIT * len(new.entries):
        raise PatchRefused(f"{len(dropped)} objects to drop and {len(created)} to create")
    kept_order = [e.key for e in new.entries if e.key not in created]
    if kept_order != [e.key for e in old.entries if e.key not in dropped]:
        raise PatchRefused("the objects kept come in another creation order")
    creates = tuple(e.key for e in new.entries if e.key in created)
    first = min((i for i, e in enumerate(new.entries) if e.key in created), default=None)
    for i, entry in enumerate(new.entries):
        if entry.kind == "default_privileges" and first is not None and i > first:
            raise PatchRefused(
                f"default privileges {key_label(entry.key)} come after "
                f"{key_label(new.entries[first].key)} in the creation order"
            )
    drops = tuple(e for e in reversed(old.entries) if e.key in dropped)
    runs_again = tuple(e.key for e in new.entries if e.kind in _RUN_AGAIN and e.key not in created)
    return Patch(source, drops, creates, runs_again)


def newest_source(server: PostgresServer, folder: Path) -> tuple[str, Manifest]:
    """The newest shadow B on ``server`` this project kept a manifest of, and that manifest."""
    rows = server.fetch(
        server.maintenance_database,
        "SELECT datname FROM pg_catalog.pg_database WHERE starts_with(datname, %s) "
        "ORDER BY oid DESC",
        (TEMPLATE_PREFIX + "b_",),
    )
    for (name,) in rows:
        manifest = read_manifest(folder, str(name))
        if manifest is not None:
            return str(name), manifest
    raise PatchRefused("no earlier shadow B of this project on the server")


# What PostgreSQL drops along with a relation without being asked (no CASCADE needed), as
# (node key prefix, schema, table or NULL, name); "refuse" rows name what the patch cannot
# rebuild. The dropped relations and indexes are the arrays %(relations)s and %(indexes)s.
_DROPPED_ALONG = """
WITH rel AS (SELECT pg_catalog.to_regclass(n)::oid AS oid FROM unnest(%(relations)s::text[]) n),
     idx AS (SELECT pg_catalog.to_regclass(n)::oid AS oid FROM unnest(%(indexes)s::text[]) n)
SELECT 'index', n.nspname, NULL, c.relname
  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE i.indrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'fk', n.nspname, t.relname, co.conname
  FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class t ON t.oid = co.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
 WHERE co.conrelid IN (SELECT oid FROM rel) AND co.contype = 'f'
UNION ALL
SELECT 'trigger', n.nspname, t.relname, tg.tgname
  FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class t ON t.oid = tg.tgrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
 WHERE tg.tgrelid IN (SELECT oid FROM rel) AND NOT tg.tgisinternal
UNION ALL
SELECT 'policy', n.nspname, t.relname, p.polname
  FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class t ON t.oid = p.polrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE p.polrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'relation', n.nspname, NULL, c.relname
  FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE h.inhparent IN (SELECT oid FROM rel)
UNION ALL
SELECT 'relation', n.nspname, NULL, s.relname
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
   AND d.refobjid IN (SELECT oid FROM rel) AND d.deptype = 'a'
UNION ALL
SELECT 'refuse', n.nspname, t.relname, 'is in publication ' || p.pubname
  FROM pg_catalog.pg_publication_rel r JOIN pg_catalog.pg_publication p ON p.oid = r.prpubid
  JOIN pg_catalog.pg_class t ON t.oid = r.prrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
 WHERE r.prrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'refuse', n.nspname, t.relname, 'has extended statistics ' || s.stxname
  FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_class t ON t.oid = s.stxrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE s.stxrelid IN (SELECT oid FROM rel)
UNION ALL
SELECT 'refuse', n.nspname, t.relname, 'loses its replica identity or cluster index ' || c.relname
  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_class t ON t.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
 WHERE i.indexrelid IN (SELECT oid FROM idx) AND (i.indisreplident OR i.indisclustered)
   AND i.indrelid NOT IN (SELECT oid FROM rel)
"""


def _check_dropped_along(conn: psycopg.Connection[Any], patch: Patch, old: Manifest) -> None:
    """Refuse when a drop would take with it an object of the old B that is not dropped itself."""
    relations = [e.relation for e in patch.drops if e.relation and e.kind != "index"]
    indexes = [e.relation for e in patch.drops if e.relation and e.kind == "index"]
    if not relations and not indexes:
        return
    dropped = {e.key for e in patch.drops}
    old_keys = old.keys()
    rows = conn.execute(_DROPPED_ALONG, {"relations": relations, "indexes": indexes}).fetchall()
    for prefix, schema, table, name in rows:
        if prefix == "refuse":
            raise PatchRefused(f"{schema}.{table} {name}")
        key = node_key(prefix, schema, *([table] if table else []), name)
        owner = node_key("seqowner", schema, name)
        if key in old_keys and key not in dropped and owner not in dropped:
            raise PatchRefused(f"{key_label(key)} would be dropped with the objects patched")


def apply_patch(url: str, patch: Patch, old: Manifest, compiled: Compiled) -> None:
    """Drop and create on ``url`` (a clone of ``patch.source``) in one transaction."""
    sql_of = {obj.node.key: obj.sql for obj in compiled.objects}
    script = "".join(
        [
            *(f"{sql_of[key].rstrip()}\n;\n" for key in patch.runs_again),
            *(f"{drop_statement(entry)};\n" for entry in patch.drops),
            *(f"{sql_of[key].rstrip()}\n;\n" for key in patch.creates),
        ]
    )
    try:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            _check_dropped_along(conn, patch, old)
            if script:
                conn.execute(script.encode("utf-8"))
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PatchRefused(f"PostgreSQL refused the patch: {first}") from None
