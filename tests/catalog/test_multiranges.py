"""A range type's multirange has a pg_type row of its own. PostgreSQL 17+ keeps its privileges
and owner with the range (GRANT and ALTER on the multirange are refused); 14-16 let a GRANT set
the multirange's own ACL, which is then what applies to it (15.18 here; 16.14 and 17.0 were
tried by hand: 16 takes the REVOKE, 17 refuses it). The reader keeps what applies (the range's
ACL from 17), so what can differ (its comment, its ACL on 16 and older) is compared as the
range's, and an import that cannot keep it says so."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from schemac.catalog import CatalogModel, compare_models, read_catalog
from schemac.catalog.queries import OWNER
from schemac.shadow import PostgresServer, scratch_database

RANGE = "CREATE SCHEMA s; CREATE TYPE s.pr AS RANGE (SUBTYPE = numeric);"


def _read(url: str) -> CatalogModel:
    with psycopg.connect(url) as conn:
        conn.read_only = True
        return read_catalog(conn)


def test_the_ranges_grant_is_the_multiranges(pg_server: PostgresServer) -> None:
    with scratch_database(pg_server) as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RANGE + "REVOKE USAGE ON TYPE s.pr FROM PUBLIC;")
        if pg_server.version < 170000:
            # PostgreSQL 16 and older take GRANT and REVOKE on the multirange: its own ACL
            # applies, and keeps PUBLIC's USAGE until revoked there too.
            extras = _read(url).extras[("range type", "s.pr")]
            assert extras["multirange: acl"] == (
                (OWNER, "USAGE", False),
                ("PUBLIC", "USAGE", False),
            )
            conn.execute("REVOKE USAGE ON TYPE s.pr_multirange FROM PUBLIC")
            extras = _read(url).extras[("range type", "s.pr")]
            assert extras["multirange: acl"] == ((OWNER, "USAGE", False),) == extras["acl"]
            return
        with pytest.raises(psycopg.errors.InvalidGrantOperation):
            conn.execute("GRANT USAGE ON TYPE s.pr_multirange TO PUBLIC")
        follows = conn.execute(
            "SELECT pg_catalog.has_type_privilege('public', 's.pr_multirange', 'USAGE')"
        ).fetchone()
        assert follows == (False,)  # PUBLIC lost USAGE on the multirange with the range
        model = _read(url)
    extras = model.extras[("range type", "s.pr")]
    # What applies to it is the range's ACL (its own row keeps the default, unused).
    assert extras["multirange: acl"] == ((OWNER, "USAGE", False),) == extras["acl"]
    assert extras["multirange: comment"] is None


def test_a_multirange_holding_other_privileges_than_its_range_is_an_import_loss(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    """On PostgreSQL 16 and older the YAML cannot say the multirange holds other privileges
    than its range (its grants are the range's, given to both): import names the loss. From
    17 the two cannot differ: nothing is lost."""
    with scratch_database(pg_server) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(RANGE + "REVOKE USAGE ON TYPE s.pr FROM PUBLIC;")
        done = run_schemac("init", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lost = "warning: range type s.pr: multirange: acl not imported"
    if pg_server.version < 170000:
        assert lost in done.stderr, done.stderr
        assert "s.pr_multirange holds other privileges than its range" in done.stderr
    else:
        assert "multirange: acl" not in done.stderr, done.stderr


def test_a_comment_on_the_multirange_is_a_difference_and_an_import_loss(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    with scratch_database(pg_server) as plain, scratch_database(pg_server) as commented:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(RANGE)
        with psycopg.connect(commented, autocommit=True) as conn:
            conn.execute(RANGE + "COMMENT ON TYPE s.pr_multirange IS 'Sets of prices.';")
        found = compare_models(_read(commented), _read(plain))
        done = run_schemac("init", "--db", commented, cwd=tmp_path)
    assert [(d.kind, d.name, d.attribute, d.current) for d in found] == [
        ("range type", "s.pr", "multirange: comment", "Sets of prices.")
    ]
    assert done.returncode == 0, done.stderr
    assert "warning: range type s.pr: multirange: comment not imported" in done.stderr
    assert "multirange: acl" not in done.stderr  # the default: nothing lost
