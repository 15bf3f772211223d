"""References in the YAML (`references:`, `table:`, a trigger's `function:`, `owned_by:`) read
by PostgreSQL's lexer as chains of names; names in comment lines and file names made safe."""

from __future__ import annotations

import pytest

from schemac.naming import comment_safe, file_safe, free_dollar_tag
from schemac.sql.names import NameChain, NameChainError, parse_name_chain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("users", NameChain(("users",))),
        ("app.users", NameChain(("app", "users"))),
        ("app.order", NameChain(("app", "order"))),  # a keyword is a name here
        ('"My Schema"."UserProfiles"', NameChain(("My Schema", "UserProfiles"))),
        ('"a.b"."c.d"', NameChain(("a.b", "c.d"))),  # dots inside quotes are the name's
        ('"x""; DROP TABLE t; --"', NameChain(('x"; DROP TABLE t; --',))),
        ("app.ünïcode", NameChain(("app", "ünïcode"))),
        ('"My Schema"."T"("Id")', NameChain(("My Schema", "T"), "Id")),
        ("t(c)", NameChain(("t",), "c")),
    ],
)
def test_a_chain_of_names(text: str, expected: NameChain) -> None:
    assert parse_name_chain(text, column=True) == expected


@pytest.mark.parametrize(
    ("text", "offset", "says"),
    [
        ("App.users", 0, '"App"'),  # PostgreSQL would fold it: quote it
        ('"app".Users', 6, '"Users"'),
        ("users; DROP TABLE t", 5, "';'"),
        ("a.b.c", 3, "'.'"),
        ("a.", 2, "incomplete"),
        ('""', 0, "zero-length"),
        ("t(c).x", 4, "after the column"),
        ("t(c, d)", 3, "','"),
        ('"unterminated', 0, "not a name"),
    ],
)
def test_not_a_chain_of_names(text: str, offset: int, says: str) -> None:
    with pytest.raises(NameChainError) as raised:
        parse_name_chain(text, column=True)
    assert raised.value.offset == offset
    assert says in str(raised.value)


def test_a_column_only_where_one_may_stand() -> None:
    with pytest.raises(NameChainError):
        parse_name_chain("t(c)")


def test_comment_lines_and_file_names() -> None:
    assert comment_safe("plain name") == "plain name"
    assert comment_safe("y\nDROP TABLE t; --") == "y\\u000aDROP TABLE t; --"
    assert comment_safe("a\rb\u2028c") == "a\\u000db\\u2028c"
    assert file_safe("user_management") == "user_management"
    assert file_safe("My Schema/../x\n") == "My_Schema____x_"
    assert free_dollar_tag("plain", "role") == "$role$"
    assert free_dollar_tag("r$role$ $role1$", "role") == "$role2$"
