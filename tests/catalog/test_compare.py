"""The model comparison on hand-made models: pure, no database, milliseconds."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from schemac import model as m
from schemac.catalog import CatalogModel, compare_models
from schemac.catalog.compare import COLUMN_ORDER, EXISTS, WARNING, misplaced_columns
from schemac.catalog.contents import CATALOG_LOCATION as LOC
from schemac.role_drift import RoleSnapshot, role_differences


def column(name: str, **changes: Any) -> m.Column:
    base = m.Column(name, "integer", False, None, None, None, None, None, None, LOC)
    return dataclasses.replace(base, **changes)


def table(*columns: m.Column, **changes: Any) -> m.Table:
    base = m.Table(
        m.QName("app", "t"),
        columns,
        (m.Constraint("primary_key", "t_pkey", ("a",)),),
        False,
        None,
        False,
        False,
        None,
        (),
        None,
        LOC,
    )
    return dataclasses.replace(base, **changes)


def function(*arguments: m.Argument, **changes: Any) -> m.Function:
    base = m.Function(
        m.QName("app", "f"),
        False,
        "sql",
        arguments,
        "integer",
        "stable",
        False,
        False,
        False,
        "unsafe",
        100.0,
        0.0,
        (),
        "SELECT 1",
        (),
        (),
        None,
        LOC,
    )
    return dataclasses.replace(base, **changes)


def model(*objects: tuple[str, str, Any], **extras: dict[str, Any]) -> CatalogModel:
    out = CatalogModel()
    for kind, name, obj in objects:
        out.add(kind, name, obj)
    for key, values in extras.items():
        kind, name = key.split("__")
        for attribute, value in values.items():
            out.set_extra(kind.replace("_", " "), name.replace("_", "."), attribute, value)
    return out


T = "app.t"
F = "app.f(integer)"
ARG = m.Argument("p", "integer", None, None)
ABC = (column("a"), column("b"), column("c"))

# (what changes, current, desired, expected (kind, name, attribute) triples)
CASES: list[tuple[str, CatalogModel, CatalogModel, set[tuple[str, str, str]]]] = [
    ("nothing", model(("table", T, table(*ABC))), model(("table", T, table(*ABC))), set()),
    (
        "a column default",
        model(("table", T, table(*ABC))),
        model(("table", T, table(column("a"), column("b", default="0"), column("c")))),
        {("table", T, "column b: default")},
    ),
    (
        "a column type and not null",
        model(("table", T, table(*ABC))),
        model(("table", T, table(column("a", type="bigint", not_null=True), *ABC[1:]))),
        {("table", T, "column a: type"), ("table", T, "column a: not null")},
    ),
    (
        "a column missing",
        model(("table", T, table(*ABC[:2]))),
        model(("table", T, table(*ABC))),
        {("table", T, "column c present")},
    ),
    (
        "a table missing",
        model(),
        model(("table", T, table(*ABC))),
        {("table", T, EXISTS)},
    ),
    (
        "a constraint's expression",
        model(("table", T, table(*ABC))),
        model(
            ("table", T, table(*ABC, constraints=(m.Constraint("check", "t_pkey", (), "a > 0"),)))
        ),
        {
            ("table", T, "constraint t_pkey: kind"),
            ("table", T, "constraint t_pkey: columns"),
            ("table", T, "constraint t_pkey: expression"),
        },
    ),
    (
        "replica identity",
        model(("table", T, table(*ABC, replica_identity="full"))),
        model(("table", T, table(*ABC))),
        {("table", T, "replica identity")},
    ),
    (
        "a function's SET",
        model(("function", F, function(ARG, settings=(("search_path", "pg_catalog"),)))),
        model(("function", F, function(ARG))),
        {("function", F, "settings")},
    ),
    (
        "an argument default",
        model(("function", F, function(ARG))),
        model(("function", F, function(dataclasses.replace(ARG, default="1")))),
        {("function", F, "argument 1: default")},
    ),
    (
        "an argument more",
        model(("function", F, function(ARG))),
        model(("function", F, function(ARG, ARG))),
        {("function", F, "arguments")},
    ),
    (
        "an extra attribute (ACL)",
        model(("table", T, table(*ABC)), table__app_t={"acl": (("PUBLIC", "SELECT", False),)}),
        model(("table", T, table(*ABC)), table__app_t={"acl": ()}),
        {("table", T, "acl")},
    ),
    (
        "an extra only one side has",
        model(("table", T, table(*ABC)), table__app_t={"column a: acl": ()}),
        model(("table", T, table(*ABC))),
        {("table", T, "column a: acl")},
    ),
]


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_difference_is_named_by_kind_object_and_attribute(
    current: CatalogModel, desired: CatalogModel, expected: set[tuple[str, str, str]]
) -> None:
    found = compare_models(current, desired)
    assert {(d.kind, d.name, d.attribute) for d in found} == expected
    assert all(d.severity != WARNING for d in found)


def test_values_of_both_sides_are_kept_and_described() -> None:
    found = compare_models(
        model(("table", T, table(*ABC, comment="one\n\ntwo"))), model(("table", T, table(*ABC)))
    )
    assert [(d.current, d.desired) for d in found] == [("one\n\ntwo", None)]
    assert found[0].describe() == "table app.t: comment is 'one\\n\\ntwo', the YAML says none"


def test_a_column_appended_instead_of_declared_mid_table_is_a_warning_naming_it() -> None:
    appended = (column("a"), column("c"), column("b"))
    found = compare_models(model(("table", T, table(*appended))), model(("table", T, table(*ABC))))
    assert [(d.attribute, d.severity) for d in found] == [(COLUMN_ORDER, WARNING)]
    assert "so b stays where it is" in found[0].detail()


def test_ignore_drops_what_the_caller_does_not_manage() -> None:
    found = compare_models(
        model(("table", T, table(*ABC)), table__app_t={"owner": "alice"}),
        model(("table", T, table(*ABC)), table__app_t={"owner": "postgres"}),
        ignore=lambda d: d.attribute == "owner",
    )
    assert found == []


def test_yaml_only_fields_are_not_compared() -> None:
    renamed = table(*ABC, renamed_from="old_t", grants=(m.Grant("x", ("select",)),))
    assert compare_models(model(("table", T, table(*ABC))), model(("table", T, renamed))) == []


@pytest.mark.parametrize(
    ("current", "desired", "moved"),
    [
        ("abn", "anb", ["n"]),
        ("abcn", "anbc", ["n"]),
        ("abc", "abc", []),
        ("abcmn", "ambnc", ["m", "n"]),
        ("ba", "ab", ["a"]),
    ],
)
def test_misplaced_columns_are_the_fewest_to_move(
    current: str, desired: str, moved: list[str]
) -> None:
    assert misplaced_columns(list(current), list(desired)) == moved


ROLE_DATA = {
    "login": False,
    "inherit": True,
    "bypass_rls": False,
    "create_role": False,
    "create_db": False,
    "connection_limit": None,
    "member_of": ["b_readers", "a_writers"],
    "comment": "first\n\nsecond",
    "superuser": False,
    "replication": False,
    "settings": [],
}
APP = m.Role(
    "app",
    False,
    True,
    False,
    False,
    False,
    None,
    ("a_writers", "b_readers"),
    "first\n\nsecond",
    LOC,
)


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({"app": ROLE_DATA}, set()),
        ({}, {("app", "exists")}),
        ({"app": {**ROLE_DATA, "comment": "first"}}, {("app", "comment")}),
        ({"app": {**ROLE_DATA, "member_of": ["a_writers"]}}, {("app", "member of")}),
        (
            {"app": {**ROLE_DATA, "login": True, "superuser": True}},
            {("app", "login"), ("app", "superuser")},
        ),
        ({"app": {**ROLE_DATA, "settings": [["work_mem", "1GB"]]}}, {("app", "settings")}),
        ({"app": ROLE_DATA, "other": ROLE_DATA}, set()),  # the server's other roles are not ours
    ],
    ids=["same", "missing", "comment", "membership", "flags", "settings", "undeclared ignored"],
)
def test_roles_compare_as_model_objects(
    server: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    found = role_differences(server, [APP])
    assert {(d.name, d.attribute) for d in found} == expected


def test_the_role_snapshot_survives_its_text_form() -> None:
    snapshot = RoleSnapshot({"app": ROLE_DATA}, ("app",))
    assert RoleSnapshot.from_text(snapshot.to_text()) == snapshot
    assert RoleSnapshot.from_text(None) == RoleSnapshot()
