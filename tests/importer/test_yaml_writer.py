"""The YAML writer: every string reads back as itself, wherever it stands, laid out as a person
would write it."""

from __future__ import annotations

import pytest
import yaml

from schemac.importer.yaml_writer import Aligned, Block, SpacedBlock, dump_document

# Strings YAML 1.1 (PyYAML) reads as something else, or that break a line if written plain.
TRICKY = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "~",
    "null",
    "Null",
    "true",
    "1",
    "-1",
    "+1",
    "1.0",
    "1e3",
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "12:30",
    "1:20:30",
    "2026-01-01",
    "2026-01-01 10:00:00+00",
    "-",
    "- a",
    "? x",
    ": x",
    "a: b",
    "a:b",
    "a #b",
    "#x",
    "@x",
    "`x",
    "%x",
    "!x",
    "&x",
    "*x",
    "|",
    ">",
    "'",
    '"',
    "it's",
    'say "hi"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "a, b",
    "<<",
    "=",
    " lead",
    "trail ",
    "\ttab",
    "",
    "ünïcödé — ok",
    "back\\slash",
    "\x01control",
    "multi\nline",
    "trailing\n",
    "two trailing\n\n",
    "\n leading break",
    "  indented\nfirst",
    "x" * 150,
    "word " * 40 + "end",
    "a\n   \nb",
    "a \nb",
    "a\n\n\nb",
    "line\r\nwin",
    "tab\tinside\nnext",
    "  ",
    "a  b " * 30,
]


@pytest.mark.parametrize("text", TRICKY)
def test_every_string_reads_back_as_itself_in_every_position(text: str) -> None:
    data = {
        "value": text,
        "list": [text, "plain"],
        "flow": {"a": text, "b": [text]},
        "keyed": {text: text} if "\n" not in text else {"k": text},
        "block": Block({"inner": text}),
    }
    written = dump_document(data, ["header"])
    assert yaml.safe_load(written) == {
        k: dict(v) if isinstance(v, dict) else v for k, v in data.items()
    }


def test_layout_is_flow_for_short_things_block_for_long_ones() -> None:
    columns = Aligned(
        {
            "id": {"type": "bigint", "identity": "always", "primary_key": True},
            "organization_id": {"type": "uuid", "not_null": True},
            "note": {"type": "text", "comment": ("A comment long enough " * 5).strip()},
        }
    )
    data = {
        "schema": "app",
        "tables": SpacedBlock(
            {
                "a": Block({"columns": columns}),
                "b": Block({"columns": Aligned({"x": {"type": "int"}})}),
            }
        ),
        "functions": {"f": Block({"language": "sql", "body": "SELECT 1\nFROM t\n"})},
    }
    assert dump_document(data, ["first line"]) == (
        "# first line\n"
        "schema: app\n"
        "\n"
        "tables:\n"
        "  a:\n"
        "    columns:\n"
        "      id:              {type: bigint, identity: always, primary_key: true}\n"
        "      organization_id: {type: uuid, not_null: true}\n"
        "      note:\n"
        "        type: text\n"
        "        comment: >-\n"
        "          A comment long enough A comment long enough A comment long enough A comment long enough A\n"
        "          comment long enough\n"
        "\n"
        "  b:\n"
        "    columns:\n"
        "      x: {type: int}\n"
        "\n"
        "functions:\n"
        "  f:\n"
        "    language: sql\n"
        "    body: |\n"
        "      SELECT 1\n"
        "      FROM t\n"
    )


# Names PostgreSQL accepts, as keys: quotes, SQL, line breaks YAML knows and JSON does not.
HOSTILE_NAMES = [
    'x"; DROP TABLE t; --',
    "y\nDROP TABLE t; --",
    "Allow logged-in read access",
    "UserProfiles",
    "Prénom",
    'it\'s "fine"',
    "a\u2028b",
    "a\u0085b",
    "\t",
    "back\\slash",
    "\U0001f600",
    "\U000e0001",
]


def test_names_that_need_quotes_read_back_as_keys() -> None:
    block = Block({name: Block({"type": "text", "comment": name}) for name in HOSTILE_NAMES})
    text = dump_document(block, "")
    assert yaml.safe_load(text) == {n: {"type": "text", "comment": n} for n in HOSTILE_NAMES}
    assert "\u2028" not in text and "\u0085" not in text  # escaped: YAML reads them as breaks
