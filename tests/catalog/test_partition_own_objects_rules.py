"""PostgreSQL's rules for triggers, policies, row security, primary keys and replica identity
declared on a partition itself, pinned on the real server.

schemac reports these as losses on import today (issue 13); declaring them on partitions must
follow exactly these rules: what is the partition's own (and so declared on it in YAML) and
what PostgreSQL copies from the parent (and so never declared twice), and what PostgreSQL
refuses (and so schemac must refuse at the YAML position).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemac.shadow import PostgresServer, scratch_database

SETUP = """
CREATE SCHEMA p;
CREATE FUNCTION p.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE p.events (id bigint NOT NULL, at date NOT NULL, note text)
  PARTITION BY RANGE (at);
CREATE TABLE p.events_2025 PARTITION OF p.events
  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
"""


@pytest.fixture
def conn(pg_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with scratch_database(pg_server) as url, psycopg.connect(url, autocommit=True) as c:
        c.execute(SETUP)
        yield c


def one(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def refused(conn: psycopg.Connection[Any], sql: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(sql)
    return str(caught.value)


def test_a_parents_row_trigger_is_cloned_and_a_partitions_own_is_not(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute(
        "CREATE TRIGGER from_parent BEFORE UPDATE ON p.events "
        "FOR EACH ROW EXECUTE FUNCTION p.touch();"
        "CREATE TRIGGER per_statement AFTER INSERT ON p.events "
        "FOR EACH STATEMENT EXECUTE FUNCTION p.touch();"
        "CREATE TRIGGER own BEFORE INSERT ON p.events_2025 "
        "FOR EACH ROW EXECUTE FUNCTION p.touch();"
    )
    found = dict(
        conn.execute(
            "SELECT tgname, tgparentid <> 0 FROM pg_trigger "
            "WHERE tgrelid = 'p.events_2025'::regclass AND NOT tgisinternal"
        ).fetchall()
    )
    # The row trigger is cloned (tgparentid names the parent's); a statement trigger is not.
    assert found == {"from_parent": True, "own": False}
    # The clone cannot be dropped on its own: only with the parent's.
    assert "requires it" in refused(conn, "DROP TRIGGER from_parent ON p.events_2025")
    conn.execute("DROP TRIGGER from_parent ON p.events")
    assert not one(conn, "SELECT count(*) FROM pg_trigger WHERE tgname = 'from_parent'"), (
        "dropping the parent's trigger drops its clones"
    )


def test_a_partition_may_have_its_own_primary_key_only_while_the_parent_has_none(
    conn: psycopg.Connection[Any],
) -> None:
    # The partition is a table: its own key need not include the partition key.
    conn.execute("ALTER TABLE p.events_2025 ADD CONSTRAINT events_2025_pkey PRIMARY KEY (id)")
    assert one(
        conn,
        "SELECT conparentid = 0 AND conislocal FROM pg_constraint "
        "WHERE conname = 'events_2025_pkey'",
    )
    # Now the parent cannot get one: a partition already has a primary key.
    message = refused(conn, "ALTER TABLE p.events ADD PRIMARY KEY (id, at)")
    assert "multiple primary keys" in message
    conn.execute("ALTER TABLE p.events_2025 DROP CONSTRAINT events_2025_pkey")
    # The parent's must include the partition key; once it has one, every partition has a
    # clone (conparentid set) and cannot declare another.
    assert "partitioning columns" in refused(conn, "ALTER TABLE p.events ADD PRIMARY KEY (id)")
    conn.execute("ALTER TABLE p.events ADD PRIMARY KEY (id, at)")
    assert one(
        conn,
        "SELECT conparentid <> 0 FROM pg_constraint "
        "WHERE conrelid = 'p.events_2025'::regclass AND contype = 'p'",
    )
    message = refused(conn, "ALTER TABLE p.events_2025 ADD PRIMARY KEY (id)")
    assert "multiple primary keys" in message


def test_policies_and_row_security_flags_are_per_partition(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute(
        "ALTER TABLE p.events ENABLE ROW LEVEL SECURITY;"
        "ALTER TABLE p.events FORCE ROW LEVEL SECURITY;"
        "CREATE POLICY on_parent ON p.events USING (note IS NOT NULL);"
        "CREATE POLICY on_partition ON p.events_2025 USING (id > 0);"
    )
    flags = dict(
        (name, (enabled, forced))
        for name, enabled, forced in conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname IN ('events', 'events_2025')"
        ).fetchall()
    )
    # Neither the flags nor the policies reach the partition: each relation has its own.
    assert flags == {"events": (True, True), "events_2025": (False, False)}
    policies = conn.execute(
        "SELECT polname, polrelid::regclass::text FROM pg_policy ORDER BY polname"
    ).fetchall()
    assert policies == [("on_parent", "p.events"), ("on_partition", "p.events_2025")]
    conn.execute("ALTER TABLE p.events_2025 ENABLE ROW LEVEL SECURITY")
    assert one(conn, "SELECT relrowsecurity FROM pg_class WHERE relname = 'events_2025'")


def test_replica_identity_is_per_partition_and_not_passed_down(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("ALTER TABLE p.events REPLICA IDENTITY FULL")
    identities = dict(
        conn.execute(
            "SELECT relname, relreplident::text FROM pg_class "
            "WHERE relname IN ('events', 'events_2025')"
        ).fetchall()
    )
    assert identities == {"events": "f", "events_2025": "d"}
    # A partition's identity may use its clone of the parent's key (the clone's own index).
    conn.execute("ALTER TABLE p.events ADD PRIMARY KEY (id, at)")
    index = one(
        conn,
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = 'p.events_2025'::regclass AND x.indisprimary",
    )
    conn.execute(f'ALTER TABLE p.events_2025 REPLICA IDENTITY USING INDEX "{index}"')
    assert one(conn, "SELECT relreplident FROM pg_class WHERE relname = 'events_2025'") == "i"
    # A partition created later does not take the parent's identity either.
    conn.execute(
        "CREATE TABLE p.events_2026 PARTITION OF p.events "
        "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
    )
    assert one(conn, "SELECT relreplident FROM pg_class WHERE relname = 'events_2026'") == "d"


def test_a_leaf_partitions_own_key_can_be_built_online_and_a_partitioned_ones_cannot(
    conn: psycopg.Connection[Any],
) -> None:
    # A leaf partition is a table: its unique index can be built CONCURRENTLY and become its
    # primary key (the online plan of `schemac diff`).
    conn.execute("CREATE UNIQUE INDEX CONCURRENTLY events_2025_pkey ON p.events_2025 (id)")
    conn.execute(
        "ALTER TABLE p.events_2025 ADD CONSTRAINT events_2025_pkey "
        "PRIMARY KEY USING INDEX events_2025_pkey"
    )
    assert one(
        conn,
        "SELECT conparentid = 0 FROM pg_constraint WHERE conname = 'events_2025_pkey'",
    )
    # A partition partitioned again is a partitioned table: neither step is allowed there.
    conn.execute(
        "CREATE TABLE p.events_2026 PARTITION OF p.events "
        "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (note)"
    )
    message = refused(conn, "CREATE UNIQUE INDEX CONCURRENTLY e26 ON p.events_2026 (id, note)")
    assert "concurrently" in message.lower()
