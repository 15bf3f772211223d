"""The kitchen-sink case compiled, migrated onto a real PostgreSQL, and read back from the catalog.

Golden files show what schemac writes; this shows PostgreSQL builds what the YAML declares.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemac.compiler import compile_project
from schemac.emit import emit
from schemac.generated_files import SEED_DIR
from schemac.project import load_settings
from schemac.records import MIGRATIONS_DIR

CASE = Path(__file__).parents[1] / "cases" / "kitchen_sink"


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in path.name[1:].split("__", 1)[0].split("."))


@pytest.fixture
def db(tmp_path: Path, empty_db: str) -> Iterator[psycopg.Connection[Any]]:
    project = tmp_path / "project"
    shutil.copytree(CASE, project)
    emit(compile_project(load_settings(project)))
    generated = project / "generated"
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for path in sorted((generated / MIGRATIONS_DIR).glob("V*.sql"), key=_version):
            conn.execute(path.read_text(encoding="utf-8"))
        for path in sorted((generated / SEED_DIR).glob("R__*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        yield conn


def one(conn: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row and len(row) == 1 else row


def test_schema_roles_extensions(db: psycopg.Connection[Any]) -> None:
    assert (
        one(db, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'core'")
        == "ks_owner"
    )
    assert (
        one(db, "SELECT obj_description('core'::regnamespace, 'pg_namespace')")
        == "Core objects of the kitchen sink."
    )
    assert one(db, "SELECT has_schema_privilege('ks_app', 'core', 'USAGE')") is True
    assert (
        one(
            db,
            "SELECT count(*) FROM pg_extension WHERE extname IN ('citext', 'btree_gist', 'pg_trgm')",
        )
        == 3
    )
    assert one(db, "SELECT pg_has_role('ks_app', 'ks_readers', 'MEMBER')") is True
    assert one(db, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'ks_owner'") is False


def test_types_domains_sequences(db: psycopg.Connection[Any]) -> None:
    labels = db.execute(
        "SELECT enumlabel FROM pg_enum WHERE enumtypid = 'core.mood'::regtype ORDER BY enumsortorder"
    ).fetchall()
    assert [r[0] for r in labels] == ["happy", "sad"]
    assert (
        one(db, "SELECT typnotnull FROM pg_type WHERE oid = 'core.positive_int'::regtype") is True
    )
    assert (
        one(
            db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'positive_int_gt_zero'",
        )
        == "CHECK ((VALUE > 0))"
    )
    seq = one(
        db,
        "SELECT (seqstart, seqincrement, seqmin, seqcache)::text FROM pg_sequence WHERE seqrelid = 'core.ticket_no'::regclass",
    )
    assert seq == "(100,5,100,10)"
    assert one(db, "SELECT pg_get_serial_sequence('core.tickets', 'number')") == "core.ticket_no"
    assert one(db, "SELECT has_sequence_privilege('ks_app', 'core.ticket_no', 'USAGE')") is True
    # sequence_grants reach the sequence a serial column creates
    assert (
        one(db, "SELECT pg_get_serial_sequence('core.scratch', 'serial_no')")
        == "core.scratch_serial_no_seq"
    )
    assert (
        one(db, "SELECT has_sequence_privilege('ks_app', 'core.scratch_serial_no_seq', 'USAGE')")
        is True
    )


def test_columns(db: psycopg.Connection[Any]) -> None:
    cols = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity, attgenerated, "
            "(SELECT collname FROM pg_collation WHERE oid = attcollation AND attcollation <> 100) "
            "FROM pg_attribute WHERE attrelid = 'core.tickets'::regclass AND attnum > 0 AND NOT attisdropped"
        )
    }
    assert list(cols)[:3] == ["id", "tenant_id", "number"]  # YAML order
    assert cols["id"][:3] == ("bigint", True, "a")
    assert cols["title"][4] == "C"
    assert cols["tags"][0] == "text[]"
    assert cols["search"][3] == "s"
    assert cols["weight"][0] == "core.positive_int"
    assert one(db, "SELECT col_description('core.tickets'::regclass, 3 + 1)") == "Short title."
    assert (
        one(
            db,
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'core.tickets'::regclass AND adnum = 3",
        )
        == "nextval('core.ticket_no'::regclass)"
    )


def test_constraints(db: psycopg.Connection[Any]) -> None:
    defs = dict(
        db.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'core.tickets'::regclass"
        ).fetchall()
    )
    assert defs["tickets_pkey"] == "PRIMARY KEY (id)"
    assert defs["tickets_tenant_id_number_key"] == "UNIQUE (tenant_id, number)"
    assert defs["tickets_title_once"] == "UNIQUE NULLS NOT DISTINCT (tenant_id, title)"
    assert defs["tickets_title_not_blank"] == "CHECK ((btrim(title) <> ''::text))"
    assert defs["tickets_no_overlap"].startswith(
        "EXCLUDE USING gist (tenant_id WITH =, during WITH &&)"
    )
    assert defs["tickets_tenant_id_fkey"] == (
        "FOREIGN KEY (tenant_id) REFERENCES core.tenants(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    )
    assert (
        defs["tickets_parent_id_fkey"]
        == "FOREIGN KEY (parent_id) REFERENCES core.tickets(id) ON DELETE SET NULL"
    )
    assert (
        one(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'events_pk'")
        == "PRIMARY KEY (occurred_at, kind)"
    )


def test_partitions_and_unlogged(db: psycopg.Connection[Any]) -> None:
    assert one(db, "SELECT pg_get_partkeydef('core.events'::regclass)") == "RANGE (occurred_at)"
    assert one(db, "SELECT pg_get_partkeydef('core.labels'::regclass)") == "LIST (kind)"
    assert one(db, "SELECT pg_get_partkeydef('core.buckets'::regclass)") == "HASH (n)"
    bounds = dict(
        db.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'core.events'::regclass"
        ).fetchall()
    )
    assert bounds["events_rest"] == "DEFAULT"
    assert bounds["events_2026_01"].startswith("FOR VALUES FROM ('2026-01-01")
    assert one(
        db,
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'core.buckets_1'::regclass",
    ) == ("FOR VALUES WITH (modulus 2, remainder 1)")
    assert (
        one(db, "SELECT relpersistence FROM pg_class WHERE oid = 'core.scratch'::regclass") == "u"
    )


def test_indexes(db: psycopg.Connection[Any]) -> None:
    defs = dict(
        db.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'core'"
        ).fetchall()
    )
    assert defs["tickets_tenant_id_number_idx"].endswith(
        "USING btree (tenant_id, number DESC NULLS LAST)"
    )
    assert "USING gin (search)" in defs["tickets_search_idx"]
    assert defs["tickets_lower_title"].endswith(
        "USING btree (lower(title) text_pattern_ops) INCLUDE (mood) WHERE (parent_id IS NULL)"
    )
    assert "USING brin" in defs["tickets_title_brin"]
    assert "USING hash" in defs["tickets_hash_title"]
    assert defs["tickets_title_trgm"].endswith("USING gin (title gin_trgm_ops)")
    assert defs["tickets_mood_unique"].startswith("CREATE UNIQUE INDEX")
    assert "tickets_late" in defs  # the CONCURRENTLY one, from its own migration
    assert "ticket_counts_tenant_id_idx" in defs  # on the materialized view
    assert (
        one(db, "SELECT obj_description('core.tickets_late'::regclass, 'pg_class')")
        == "Built without locking writers."
    )


def test_comments_keep_their_blank_lines(db: psycopg.Connection[Any]) -> None:
    assert one(db, "SELECT obj_description('core.tenants'::regclass, 'pg_class')") == (
        "Tenants.\n\nOne row per customer; every other table points here.\n"
    )


def test_views(db: psycopg.Connection[Any]) -> None:
    opts = one(db, "SELECT reloptions FROM pg_class WHERE oid = 'core.open_tickets'::regclass")
    assert sorted(opts) == ["security_barrier=true", "security_invoker=true"]
    assert one(db, "SELECT reloptions FROM pg_class WHERE oid = 'core.open_titles'::regclass") == [
        "check_option=cascaded"
    ]
    assert one(db, "SELECT col_description('core.open_tickets'::regclass, 2)") == "The title."
    assert (
        one(db, "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'ticket_counts'") is False
    )
    assert (
        one(db, "SELECT has_table_privilege('ks_readers', 'core.open_tickets', 'SELECT')") is True
    )


def test_functions(db: psycopg.Connection[Any]) -> None:
    touch = db.execute(
        "SELECT prosecdef, proconfig, prorettype::regtype::text FROM pg_proc WHERE oid = 'core.touch'::regproc"
    ).fetchone()
    assert touch == (True, ["search_path=pg_catalog, pg_temp"], "trigger")
    add = db.execute(
        "SELECT provolatile, proisstrict, proparallel, pronargdefaults FROM pg_proc WHERE oid = 'core.add'::regproc"
    ).fetchone()
    assert add == ("i", True, "s", 1)
    assert one(db, "SELECT core.add(2)") == 3
    assert (
        one(db, "SELECT proretset FROM pg_proc WHERE oid = 'core.ticket_titles'::regproc") is True
    )
    assert (
        one(db, "SELECT pg_get_function_result('core.ticket_rows'::regproc)")
        == "TABLE(id bigint, mood core.mood)"
    )
    assert (
        one(db, "SELECT pg_get_function_arguments('core.ticket_table'::regproc)")
        == "p_tenant uuid, OUT n integer"
    )
    assert one(db, "SELECT prokind FROM pg_proc WHERE oid = 'core.reset_counts'::regproc") == "p"
    assert (
        one(db, "SELECT obj_description('core.reset_counts'::regproc, 'pg_proc')")
        == "Recomputes counts."
    )
    assert (
        one(db, "SELECT has_function_privilege('ks_app', 'core.add(integer, integer)', 'EXECUTE')")
        is True
    )
    # SECURITY DEFINER: EXECUTE is revoked from PUBLIC, kept for the granted role.
    assert (
        one(db, "SELECT has_function_privilege('ks_readers', 'core.touch()', 'EXECUTE')") is False
    )
    assert one(db, "SELECT has_function_privilege('ks_app', 'core.touch()', 'EXECUTE')") is True
    assert "btrim" in one(
        db, "SELECT prosrc FROM pg_proc WHERE oid = 'core.touch'::regproc"
    )  # body_file


def test_triggers(db: psycopg.Connection[Any]) -> None:
    defs = dict(
        db.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'core.tickets'::regclass AND NOT tgisinternal"
        ).fetchall()
    )
    assert defs["tickets_touch"] == (
        "CREATE TRIGGER tickets_touch BEFORE INSERT OR UPDATE OF title ON core.tickets "
        "FOR EACH ROW WHEN ((new.title IS NOT NULL)) EXECUTE FUNCTION core.touch('hello')"
    )
    assert "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT" in defs["tickets_audit"]
    assert "AFTER TRUNCATE" in defs["tickets_truncate"]
    assert (
        one(
            db,
            "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 'tickets_touch'",
        )
        == "Keeps titles tidy."
    )


def test_row_level_security(db: psycopg.Connection[Any]) -> None:
    assert db.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'core.tickets'::regclass"
    ).fetchone() == (True, True)
    policies = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT policyname, permissive, cmd, roles::text[], qual, with_check FROM pg_policies WHERE tablename = 'tickets'"
        )
    }
    assert policies["tenant_only"][:3] == ("PERMISSIVE", "ALL", ["public"])
    assert "current_setting('app.tenant'::text, true)" in policies["tenant_only"][3]
    assert policies["readers_see_all"][:3] == ("PERMISSIVE", "SELECT", ["ks_readers"])
    assert policies["no_sad_updates"][:2] == ("RESTRICTIVE", "UPDATE")


def test_seed_data_is_idempotent(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    assert (
        one(
            db,
            "SELECT name::text FROM core.tenants WHERE id = '00000000-0000-0000-0000-0000000000bb'",
        )
        == "Second's"
    )
    seed = next((tmp_path / "project" / "generated" / SEED_DIR).glob("R__*.sql")).read_text(
        encoding="utf-8"
    )
    db.execute(seed)
    assert one(db, "SELECT count(*) FROM core.tenants") == 2
