"""The catalog reader on the real platform: a copy reads as equal, each hand-made change is named."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import psycopg
import pytest

from schemac.catalog import CatalogModel, compare_models, read_catalog, read_roles
from schemac.catalog.contents import CATALOG_LOCATION
from schemac.model import Role
from schemac.role_drift import role_differences
from schemac.shadow import PostgresServer, scratch_database


def read(url: str) -> CatalogModel:
    with psycopg.connect(url) as conn:
        conn.read_only = True
        return read_catalog(conn)


def test_the_platform_read_twice_and_from_two_copies_has_no_difference(
    pg_server: PostgresServer, desired_template: str, platform_copy: str
) -> None:
    first = read(platform_copy)
    assert compare_models(first, read(platform_copy)) == []
    with scratch_database(pg_server, template=desired_template) as other:
        assert compare_models(first, read(other)) == []
    counts = first.count()
    # Every kind the platform declares is read (its YAML has all of these).
    for kind in (
        "schema",
        "extension",
        "enum",
        "table",
        "partition",
        "foreign key",
        "index",
        "view",
        "materialized view",
        "function",
        "trigger",
        "policy",
    ):
        assert counts.get(kind, 0) > 0, kind


def test_partition_clones_are_postgresqls_not_the_users(platform_copy: str) -> None:
    before = read(platform_copy)
    with psycopg.connect(platform_copy, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION public.probe() RETURNS trigger LANGUAGE plpgsql "
            "AS $$BEGIN RETURN NEW; END$$"
        )
        conn.execute(
            "CREATE TRIGGER probe BEFORE INSERT ON analytics.learning_events "
            "FOR EACH ROW EXECUTE FUNCTION public.probe()"
        )
    found = {(d.kind, d.name, d.attribute) for d in compare_models(read(platform_copy), before)}
    assert found == {
        ("function", "public.probe()", "exists"),
        ("trigger", "probe on analytics.learning_events", "exists"),
    }


ORGS = "user_management.organizations"
PARTITIONS = "analytics.create_learning_event_partitions(integer)"
PROBE_FUNCTION = (
    "CREATE FUNCTION public.probe(p integer DEFAULT 1) RETURNS integer LANGUAGE sql AS 'SELECT p'"
)

# (id, setup SQL run before the first read, the hand-made change, (kind, name, attribute))
CHANGES = [
    (
        "function SET search_path",
        None,
        "ALTER FUNCTION analytics.create_learning_event_partitions(integer) "
        "SET search_path = public",
        ("function", PARTITIONS, "settings"),
    ),
    (
        "replica identity",
        None,
        f"ALTER TABLE {ORGS} REPLICA IDENTITY FULL",
        ("table", ORGS, "replica identity"),
    ),
    (
        "column default",
        None,
        f"ALTER TABLE {ORGS} ALTER COLUMN name SET DEFAULT 'unnamed'",
        ("table", ORGS, "column name: default"),
    ),
    (
        "comment with a blank line",
        None,
        f"COMMENT ON TABLE {ORGS} IS 'first paragraph\n\nsecond paragraph'",
        ("table", ORGS, "comment"),
    ),
    (
        "grant",
        None,
        f"GRANT INSERT ON {ORGS} TO app_reporting",
        ("table", ORGS, "acl"),
    ),
    (
        "grant option",
        None,
        f"GRANT SELECT ON {ORGS} TO app_reporting WITH GRANT OPTION",
        ("table", ORGS, "acl"),
    ),
    (
        "policy USING",
        None,
        f"ALTER POLICY tenant_isolation ON {ORGS} USING (true)",
        ("policy", f"tenant_isolation on {ORGS}", "using"),
    ),
    (
        "trigger disabled",
        None,
        f"ALTER TABLE {ORGS} DISABLE TRIGGER audit_changes",
        ("trigger", f"audit_changes on {ORGS}", "enabled"),
    ),
    (
        "view security_invoker turned off",
        None,
        "ALTER VIEW gamification.effective_point_rules SET (security_invoker = false)",
        ("view", "gamification.effective_point_rules", "security invoker"),
    ),
    (
        "materialized view emptied",
        None,
        "REFRESH MATERIALIZED VIEW analytics.organization_activity_daily WITH NO DATA",
        ("materialized view", "analytics.organization_activity_daily", "with data"),
    ),
    (
        "argument default by CREATE OR REPLACE",
        PROBE_FUNCTION,
        PROBE_FUNCTION.replace("CREATE", "CREATE OR REPLACE").replace("DEFAULT 1", "DEFAULT 2"),
        ("function", "public.probe(integer)", "argument 1: default"),
    ),
    (
        "row level security forced off",
        None,
        f"ALTER TABLE {ORGS} NO FORCE ROW LEVEL SECURITY",
        ("table", ORGS, "rls force"),
    ),
    (
        "column comment",
        None,
        f"COMMENT ON COLUMN {ORGS}.slug IS NULL",
        ("table", ORGS, "column slug: comment"),
    ),
    (
        "function volatility",
        None,
        "ALTER FUNCTION analytics.create_learning_event_partitions(integer) STABLE",
        ("function", PARTITIONS, "volatility"),
    ),
    (
        "publication table added",
        f"CREATE PUBLICATION probe FOR TABLE {ORGS}",
        "ALTER PUBLICATION probe ADD TABLE user_management.users",
        ("publication", "probe", "tables"),
    ),
    (
        "default privileges",
        None,
        "ALTER DEFAULT PRIVILEGES IN SCHEMA gamification GRANT SELECT ON TABLES TO app_reporting",
        ("default privileges", "(current user) in gamification on tables", "exists"),
    ),
    (
        "column storage",
        None,
        f"ALTER TABLE {ORGS} ALTER COLUMN name SET STORAGE EXTERNAL",
        ("table", ORGS, "column name: storage"),
    ),
    (
        "column statistics target",
        None,
        f"ALTER TABLE {ORGS} ALTER COLUMN name SET STATISTICS 500",
        ("table", ORGS, "column name: statistics"),
    ),
    (
        "identity sequence increment",
        "CREATE TABLE public.probe (id bigint GENERATED ALWAYS AS IDENTITY)",
        "ALTER TABLE public.probe ALTER COLUMN id SET INCREMENT BY 5",
        ("table", "public.probe", "column id: identity options"),
    ),
    (
        "column privilege",
        None,
        f"GRANT UPDATE (name) ON {ORGS} TO app_reporting",
        ("table", ORGS, "column name: acl"),
    ),
    (
        "aggregate made by hand",
        None,
        "CREATE AGGREGATE public.probe_sum(integer) (SFUNC = int4pl, STYPE = integer)",
        # A kind of its own since kinds/aggregates.py.
        ("aggregate", "public.probe_sum(integer)", "exists"),
    ),
    (
        "aggregate given an initial state",
        "CREATE AGGREGATE public.probe_sum(integer) (SFUNC = int4pl, STYPE = integer)",
        "CREATE OR REPLACE AGGREGATE public.probe_sum(integer) (SFUNC = int4pl, STYPE = integer, "
        "INITCOND = '0')",
        ("aggregate", "public.probe_sum(integer)", "initcond"),
    ),
    (
        "aggregate made a moving aggregate by hand",
        "CREATE AGGREGATE public.probe_msum(integer) (SFUNC = int4pl, STYPE = integer)",
        "CREATE OR REPLACE AGGREGATE public.probe_msum(integer) (SFUNC = int4pl, STYPE = integer, "
        "MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = integer)",
        # The YAML declares plain aggregates: what it cannot hold is a difference, named.
        ("aggregate", "public.probe_msum(integer)", "unsupported"),
    ),
    (
        "range type subtype diff set",
        "CREATE TYPE public.probe_range AS RANGE (SUBTYPE = numeric)",
        "DROP TYPE public.probe_range; "
        "CREATE TYPE public.probe_range AS RANGE (SUBTYPE = numeric, SUBTYPE_DIFF = numrange_subdiff)",
        ("range type", "public.probe_range", "subtype diff"),
    ),
    (
        "publication publish changed by hand",
        f"CREATE PUBLICATION probe_pub FOR TABLE {ORGS} (id, name) WHERE (name <> '')",
        "ALTER PUBLICATION probe_pub SET (publish = 'insert')",
        ("publication", "probe_pub", "publish"),
    ),
    (
        "publication row filter changed by hand",
        f"CREATE PUBLICATION probe_pub FOR TABLE {ORGS} (id, name) WHERE (name <> '')",
        f"ALTER PUBLICATION probe_pub SET TABLE {ORGS} (id, name) WHERE (name <> 'x')",
        ("publication", "probe_pub", "tables"),
    ),
    (
        "replica identity of a key",
        "CREATE TABLE public.probe_keyed (id integer PRIMARY KEY)",
        "ALTER TABLE public.probe_keyed REPLICA IDENTITY USING INDEX probe_keyed_pkey",
        ("table", "public.probe_keyed", "replica identity"),
    ),
    (
        "composite type attribute added",
        "CREATE TYPE public.probe_pair AS (a integer)",
        "ALTER TYPE public.probe_pair ADD ATTRIBUTE b text",
        # A kind of its own since kinds/composites.py: named by attribute, not "other".
        ("composite type", "public.probe_pair", "attribute b present"),
    ),
    (
        "rule made by hand",
        None,
        f"CREATE RULE probe AS ON DELETE TO {ORGS} DO INSTEAD NOTHING",
        ("other", f"rule probe on {ORGS}", "exists"),
    ),
    (
        "extended statistics",
        None,
        f"CREATE STATISTICS public.probe_stats ON slug, name FROM {ORGS}",
        ("other", "statistics object public.probe_stats", "exists"),
    ),
    (
        "index storage parameter",
        None,
        "ALTER INDEX gamification.achievements_course_id_idx SET (fillfactor = 70)",
        ("index", "gamification.achievements_course_id_idx", "storage"),
    ),
]


@pytest.mark.parametrize(
    ("setup", "change", "expected"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES]
)
def test_a_hand_made_change_is_named_by_object_and_attribute(
    platform_copy: str, setup: str | None, change: str, expected: tuple[str, str, str]
) -> None:
    if setup:
        with psycopg.connect(platform_copy, autocommit=True) as conn:
            conn.execute(setup)
    desired = read(platform_copy)
    with psycopg.connect(platform_copy, autocommit=True) as conn:
        conn.execute(change)
    found = compare_models(read(platform_copy), desired)
    assert expected in {(d.kind, d.name, d.attribute) for d in found}, [d.describe() for d in found]
    # Only the changed object differs (an ACL change is also seen in the model's grants).
    assert {(d.kind, d.name) for d in found} == {expected[:2]}


@pytest.fixture
def probe_role(pg_server: PostgresServer) -> Iterator[str]:
    name = f"catalog_probe_{secrets.token_hex(4)}"
    with pg_server.connect() as conn:
        conn.execute(f'CREATE ROLE "{name}" NOLOGIN')
        conn.execute(f"COMMENT ON ROLE \"{name}\" IS 'as declared\n\nwith a blank line'")
    try:
        yield name
    finally:
        with pg_server.connect() as conn:
            conn.execute(f'DROP ROLE "{name}"')


def test_a_role_is_compared_as_a_model_object(pg_server: PostgresServer, probe_role: str) -> None:
    declared = Role(
        probe_role,
        False,
        True,
        False,
        False,
        False,
        None,
        (),
        "as declared\n\nwith a blank line",
        CATALOG_LOCATION,
    )
    with pg_server.connect() as conn:
        assert role_differences(read_roles(conn), [declared]) == []
        conn.execute(f"COMMENT ON ROLE \"{probe_role}\" IS 'changed by hand'")
        conn.execute(f'ALTER ROLE "{probe_role}" LOGIN')
        found = role_differences(read_roles(conn), [declared])
    assert {(d.kind, d.name, d.attribute) for d in found} == {
        ("role", probe_role, "comment"),
        ("role", probe_role, "login"),
    }


def test_reading_the_platform_is_fast(platform_copy: str) -> None:
    with psycopg.connect(platform_copy) as conn:
        conn.read_only = True
        started = time.perf_counter()
        read_catalog(conn)
        elapsed = time.perf_counter() - started
    print(f"catalog of the platform read in {elapsed:.3f} s")
    assert elapsed < 5
