"""Type names as `schemac import` writes them: format_type's spelling read by PostgreSQL's
parser and written the short way the docs teach, relative to the unit's schema."""

from __future__ import annotations

import pytest

from schemac.importer.names import TypeNames, short_type

NAMES = TypeNames(frozenset({("app", "mood")}), (("citext", "ext"), ("geometry", "public")))

CASES = [
    # PostgreSQL's words -> the short spelling, modifiers and array bounds kept
    ("timestamp with time zone", "timestamptz"),
    ("timestamp(3) with time zone", "timestamptz(3)"),
    ("timestamp(6) without time zone[]", "timestamp(6)[]"),
    ("time with time zone", "timetz"),
    ("time(2) without time zone", "time(2)"),
    ("character varying", "varchar"),
    ("character varying(20)[]", "varchar(20)[]"),
    ("character(5)", "char(5)"),
    ("bit varying(4)", "varbit(4)"),
    # a bare `character` is char(1) to the parser: kept as PostgreSQL printed it
    ("character", "character"),
    # the rest as printed
    ("integer", "integer"),
    ("double precision", "double precision"),
    ("numeric(10,2)", "numeric(10,2)"),
    ("bit(3)", "bit(3)"),
    ("interval second(3)", "interval second(3)"),
    ('"char"', '"char"'),
    ("bpchar", "bpchar"),
    # the unit's own types and extension types bare; others qualified
    ("app.mood", "mood"),
    ("app.mood[][]", "mood[][]"),
    ("other.mood", "other.mood"),
    ("ext.citext[]", "citext[]"),
    ("public.geometry(Point,4326)", "geometry(Point,4326)"),
    ('"App".mood', '"App".mood'),
    ('app."Mood"', 'app."Mood"'),
    # not one type name: left as it is
    ("integer); drop table x; --", "integer); drop table x; --"),
]


@pytest.mark.parametrize(("printed", "written"), CASES)
def test_short_type(printed: str, written: str) -> None:
    assert short_type(printed, "app", NAMES) == written
