"""A range type's multirange has a pg_type row of its own. PostgreSQL 18 keeps its privileges
and owner with the range (GRANT and ALTER on the multirange are refused, its ACL stays the
default); PostgreSQL 15 still lets a GRANT set the multirange's own ACL. What can differ (its
comment, its ACL) is compared as the range's, and an import that cannot keep the comment says
so."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from command_line import run_schemac
from schemac.catalog import CatalogModel, compare_models, read_catalog
from schemac.shadow import PostgresServer, scratch_database

RANGE = "CREATE SCHEMA s; CREATE TYPE s.pr AS RANGE (SUBTYPE = numeric);"


def _read(url: str) -> CatalogModel:
    with psycopg.connect(url) as conn:
        conn.read_only = True
        return read_catalog(conn)


def test_the_ranges_grant_is_the_multiranges(pg_server: PostgresServer) -> None:
    with scratch_database(pg_server) as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RANGE + "REVOKE USAGE ON TYPE s.pr FROM PUBLIC;")
        if pg_server.version < 180000:
            # PostgreSQL 15 takes GRANT and REVOKE on the multirange: its own ACL then differs
            # from the default, and the reader keeps it as the range's `multirange: acl`.
            conn.execute("REVOKE USAGE ON TYPE s.pr_multirange FROM PUBLIC")
            extras = _read(url).extras[("range type", "s.pr")]
            assert extras["multirange: acl"] == (("(owner)", "USAGE", False),)
            return
        with pytest.raises(psycopg.errors.InvalidGrantOperation):
            conn.execute("GRANT USAGE ON TYPE s.pr_multirange TO PUBLIC")
        follows = conn.execute(
            "SELECT pg_catalog.has_type_privilege('public', 's.pr_multirange', 'USAGE')"
        ).fetchone()
        assert follows == (False,)  # PUBLIC lost USAGE on the multirange with the range
        model = _read(url)
    extras = model.extras[("range type", "s.pr")]
    # Its own row keeps the default ACL (owner and PUBLIC), whatever the range's says.
    assert extras["multirange: acl"] == (("(owner)", "USAGE", False), ("PUBLIC", "USAGE", False))
    assert extras["multirange: comment"] is None


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
