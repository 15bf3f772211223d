"""The bad-input corpus: each case breaks one valid project (tests/hardening/corpus) in one
way and runs the real `schemac compile` on it (the typer app, in this process for speed).

Every case asserts the exit code, the error code and the exact file:line:col, and that
generated/ (compiled from the valid project first) is unchanged byte for byte. The expected
position is written into the case itself: `@@` marks where the error must point, and is
removed before the file is written, so a case reads as the YAML it tests.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemac.cli import app
from schemac.limits import MAX_BODY_FILE_BYTES, MAX_YAML_FILE_BYTES

BASE = Path(__file__).parent / "corpus"
APP = "schema/01_app.yaml"
GLOBAL = "schema/00_global.yaml"
SETTINGS = "schemac.yaml"
MARK = "@@"


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    file: str = APP
    old: str = ""  # text of the valid file to replace ("" with new: the whole file)
    new: str = ""  # its replacement, with @@ where the error must point
    exit_code: int = 2
    setup: Callable[[Path], str] | None = None  # makes the project; returns "file:line:col"


def R(name: str, code: str, old: str, new: str, file: str = APP) -> Case:
    return Case(name, code, file, old, new)


def W(name: str, code: str, text: str, file: str = APP) -> Case:
    """The whole file replaced."""
    return Case(name, code, file, "", text)


def S(name: str, code: str, setup: Callable[[Path], str], exit_code: int = 2) -> Case:
    return Case(name, code, setup=setup, exit_code=exit_code)


# -- cases that need more than a text edit --------------------------------------------------------


def _dangling_link(root: Path) -> str:
    (root / "schema" / "02_gone.yaml").symlink_to(root / "nowhere.yaml")
    return "schema/02_gone.yaml:1:1"


def _link_outside(root: Path) -> str:
    outside = root.parent / "outside.yaml"
    outside.write_text("schema: other\n", encoding="utf-8")
    (root / "schema" / "02_outside.yaml").symlink_to(outside)
    return "schema/02_outside.yaml:1:1"


def _link_loop(root: Path) -> str:
    (root / "schema" / "02_loop.yaml").symlink_to(root / "schema" / "02_loop.yaml")
    return "schema/02_loop.yaml:1:1"


def _fifo(root: Path) -> str:
    os.mkfifo(root / "schema" / "02_pipe.yaml")
    return "schema/02_pipe.yaml:1:1"


def _newline_name(root: Path) -> str:
    (root / "schema" / "02_a\nDROP TABLE x.yaml").write_text("schema: b\n", encoding="utf-8")
    return "schema/02_a\nDROP TABLE x.yaml:1:1"


def _placeholder_name(root: Path) -> str:
    (root / "schema" / "02_${x}.yaml").write_text("schema: b\n", encoding="utf-8")
    return "schema/02_${x}.yaml:1:1"


def _huge_yaml(root: Path) -> str:
    with (root / "schema" / "02_big.yaml").open("wb") as handle:
        handle.truncate(MAX_YAML_FILE_BYTES + 1)  # sparse: costs no disk
    return "schema/02_big.yaml:1:1"


def _not_utf8(root: Path) -> str:
    path = root / APP
    path.write_bytes(path.read_bytes().replace(b"Organizations.", b"Organi\xffzations."))
    return f"{APP}:8:20"


def _body_file(target: str, code: str, prepare: Callable[[Path], None] | None = None) -> Case:
    def setup(root: Path) -> str:
        if prepare is not None:
            prepare(root)
        path = root / APP
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("body_file: touch.sql", f"body_file: {target}"), "utf-8")
        return f"{APP}:39:16"

    return S(f"body_file_{code}_{target.strip('/').replace('/', '_')[:30]}", code, setup)


def _big_body(root: Path) -> None:
    (root / "schema" / "big.sql").write_bytes(b"-- x\n" * (MAX_BODY_FILE_BYTES // 5 + 1))


def _body_link_outside(root: Path) -> None:
    (root / "schema" / "passwd.sql").symlink_to("/etc/passwd")


def _body_link_zero(root: Path) -> None:
    (root / "schema" / "zero.sql").symlink_to("/dev/zero")


def _body_dir(root: Path) -> None:
    (root / "schema" / "adir.sql").mkdir()


def _body_not_utf8(root: Path) -> None:
    (root / "schema" / "latin1.sql").write_bytes(b"BEGIN RETURN NEW; END; -- caf\xe9\n")


def _body_nul(root: Path) -> None:
    (root / "schema" / "nul.sql").write_bytes(b"BEGIN RETURN NEW; END;\x00\n")


def _body_fifo(root: Path) -> None:
    os.mkfifo(root / "schema" / "pipe.sql")


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


_BOMB = _bomb(10).replace("*a3]", "*a3]", 1)
_BOMB_AT = _BOMB.splitlines()[4]
_BOMB_MARKED = _BOMB.replace(_BOMB_AT, _BOMB_AT[:44] + MARK + _BOMB_AT[44:], 1)  # 8th *a3

CASES: list[Case] = [
    # -- YAML syntax (E101) ---------------------------------------------------------------------
    R(
        "unclosed_flow_mapping",
        "E101",
        "{type: text, not_null: true}\n      size",
        "{type: text, not_null: true\n      size@@",
    ),
    R("unclosed_flow_sequence", "E101", "mood: [happy, sad]", "mood: [happy, sad\ntables_@@: 1"),
    R("bad_indentation", "E101", "    comment: People.", "    comment: People.\n     x@@: 1"),
    R("tab_indentation", "E101", "    comment: People.", "    comment: People.\n@@\tx: 1"),
    R("unclosed_double_quote", "E101", "\"btrim(name) <> ''\"", "@@\"btrim(name) <> ''\n"),
    R("bad_escape", "E101", "comment: Full name.", 'comment: "Full @@\\q name."'),
    R("nul_byte", "E101", "comment: People.", "comment: Peo@@\x00ple."),
    R("control_character", "E101", "comment: People.", "comment: Peo@@\x07ple."),
    R("undefined_alias", "E101", "mood: {type: mood}", "mood: @@*nothing"),
    R("mapping_in_plain_scalar", "E101", "comment: People.", "comment: People@@: x: y"),
    R("two_documents", "E101", "schema: app\n", "schema: app\n@@---\nschema: b\n"),
    R("unknown_tag", "E101", "mood: {type: mood}", "mood: @@!!python/object {}"),
    R(
        "block_scalar_bad_indent",
        "E101",
        "    comment: People.",
        "    comment: |\n      text\n     @@bad: 1",
    ),
    R("settings_syntax", "E101", "tenancy: {column", "tenancy: {column: [\n@@", file=SETTINGS),
    R(
        "global_syntax",
        "E101",
        "app_user: {login: false}",
        "app_user: @@{login: false\n",
        file=GLOBAL,
    ),
    # -- duplicate keys (E102) --------------------------------------------------------------------
    R("duplicate_table", "E102", "  people:\n", "  @@orgs:\n"),
    R(
        "duplicate_column",
        "E102",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer}\n      @@score: {type: integer}",
    ),
    R(
        "duplicate_flow_key",
        "E102",
        "{type: uuid, primary_key: true}",
        "{type: uuid, @@type: text}",
    ),
    R("duplicate_top_level", "E102", "comment: The application.", "comment: a\n@@comment: b"),
    R(
        "duplicate_role",
        "E102",
        "app_user: {login: false}",
        "app_user: {}\n  @@app_user: {}",
        file=GLOBAL,
    ),
    R(
        "duplicate_settings_key",
        "E102",
        "tenancy:",
        "generated_dir: g\n@@generated_dir: h\ntenancy:",
        file=SETTINGS,
    ),
    R("duplicate_seed_column", "E102", "name: First, size: 1", "name: First, @@name: Again"),
    R(
        "duplicate_after_merge",
        "E102",
        "    comment: People.\n",
        "    comment: People.\n    @@comment: Again.\n",
    ),
    # -- unknown keys (E103) ----------------------------------------------------------------------
    R("unknown_top_level", "E103", "comment: The application.", "@@comments: The application."),
    R("unknown_table_key", "E103", "    comment: People.", "    @@comentary: People."),
    R(
        "unknown_column_key",
        "E103",
        "{type: text, not_null: true, comment: Full name.}",
        "{type: text, @@notnull: true}",
    ),
    R("unknown_trigger_key", "E103", "for_each: row,", "for_each: row, @@when_: x,"),
    R(
        "unknown_function_key",
        "E103",
        "    language: plpgsql",
        "    language: plpgsql\n    @@volatile: true",
    ),
    R("unknown_index_key", "E103", "{columns: [name]}", "{columns: [name], @@uniq: true}"),
    R("unknown_seed_key", "E103", "      key: [id]", "      key: [id]\n      @@upsert: true"),
    R(
        "unknown_role_key",
        "E103",
        "{login: false}",
        "{login: false, @@superuser: true}",
        file=GLOBAL,
    ),
    R("unknown_settings_key", "E103", "tenancy:", "@@schemadir: x\ntenancy:", file=SETTINGS),
    R(
        "unknown_tenancy_key",
        "E103",
        "policy: org_only",
        "policy: org_only, @@kind: x",
        file=SETTINGS,
    ),
    R("unknown_global_key", "E103", "roles:", "@@rolls: {}\nroles:", file=GLOBAL),
    # -- names (E104) -----------------------------------------------------------------------------
    # Any text PostgreSQL accepts is a name (upper case, spaces, quotes): only the empty name
    # and NUL are not; a reference is SQL's syntax, so a part with upper case is quoted.
    R("column_name_empty", "E104", "      score: {", '      @@"": {'),
    R("column_name_nul", "E107", "      score: {", '      @@"sc\\0ore": {'),
    R("table_reference_upper", "E104", "references: {table: orgs}", "references: {table: @@Orgs}"),
    R(
        "table_reference_quoted_schema_upper",
        "E104",
        "references: {table: orgs}",
        """references: {table: '"app".@@Orgs'}""",
    ),
    R(
        "table_reference_statement",
        "E104",
        "references: {table: orgs}",
        """references: {table: 'orgs@@; DROP TABLE t; --'}""",
    ),
    R(
        "short_reference_two_columns",
        "E104",
        "references: {table: orgs}",
        "references: 'orgs(id@@, name)'",
    ),
    R(
        "trigger_function_three_parts",
        "E104",
        "function: touch}",
        "function: 'app.touch@@.x'}",
    ),
    # -- wrong types and shapes (E105) -----------------------------------------------------------
    R(
        "not_null_string",
        "E105",
        "not_null: true, comment: Full name.",
        'not_null: @@"yes", comment: Full name.',
    ),
    R(
        "columns_a_list",
        "E105",
        "    columns:\n      id: {type: uuid, primary_key: true}\n      name: {type: text, not_null: true}\n      size",
        "    columns: @@[id]\n    x_columns:\n      name: {type: text, not_null: true}\n      size",
    ),
    R("timing_unknown", "E105", "timing: before", "timing: @@sometimes"),
    R("events_a_string", "E105", "events: [update]", "events: @@update"),
    R("identity_unknown", "E105", "identity: always", "identity: @@sometimes"),
    R("comment_a_number", "E105", "    comment: People.", "    comment: @@12"),
    R("comment_a_list", "E105", "    comment: People.", "    comment: @@[a, b]"),
    R("seed_rows_a_mapping", "E105", "      rows:\n", "      rows: @@{a: 1}\n      x_rows:\n"),
    R("seed_key_a_number", "E105", "      key: [id]", "      key: @@3"),
    R("grants_a_string", "E105", "grants: {app_user: [insert]}", "grants: @@everything"),
    R("index_columns_a_number", "E105", "{columns: [name]}", "{columns: @@7}"),
    R("enum_values_a_map", "E103", "  mood: [happy, sad]", "  mood: {@@happy: 1}"),
    R("language_a_list", "E105", "    language: plpgsql", "    language: @@[plpgsql]"),
    R("tables_a_list", "E105", "tables:\n  orgs:", "tables: @@[]\nx_tables:\n  orgs:"),
    W("document_a_list", "E105", "@@- schema: app\n"),
    R("login_a_string", "E105", "{login: false}", "{login: @@nope}", file=GLOBAL),
    # -- settings (E200, E201) --------------------------------------------------------------------
    W("settings_a_list", "E200", "@@- a\n- b\n", file=SETTINGS),
    R("tenancy_column_a_list", "E201", "column: org_id", "column: @@[a, b]", file=SETTINGS),
    R(
        "tenancy_column_sql",
        "E201",
        "column: org_id",
        "column: @@'org_id); DROP TABLE x; --'",
        file=SETTINGS,
    ),
    R("tenancy_column_empty", "E201", "column: org_id", "column: @@''", file=SETTINGS),
    R("tenancy_setting_no_dot", "E201", "setting: app.org", "setting: @@apporg", file=SETTINGS),
    R("tenancy_setting_quote", "E201", "setting: app.org", 'setting: @@"app.o\'rg"', file=SETTINGS),
    R("tenancy_policy_upper", "E201", "policy: org_only", "policy: @@Org_Only", file=SETTINGS),
    R("tenancy_type_a_number", "E201", "type: uuid", "type: @@5", file=SETTINGS),
    R("tenancy_a_string", "E201", "tenancy: {", "tenancy: @@x\nx_tenancy: {", file=SETTINGS),
    R("version_width_zero", "E201", "tenancy:", "version_width: @@0\ntenancy:", file=SETTINGS),
    R("schema_dir_a_list", "E201", "tenancy:", "schema_dir: @@[a]\ntenancy:", file=SETTINGS),
    # -- aliases and nesting (E106) ---------------------------------------------------------------
    W("alias_bomb", "E106", _BOMB_MARKED),
    R(
        "recursive_alias",
        "E106",
        "    comment: People.",
        "    comment: People.\n    x: &loop\n      - @@*loop",
    ),
    R(
        "recursive_alias_in_mapping",
        "E106",
        "    comment: People.",
        "    comment: People.\n    x: &m {a: @@*m}",
    ),
    W(
        "nesting_too_deep",
        "E106",
        "schema: app\nx: " + "[" * 199 + MARK + "[" * 301 + "]" * 500 + "\n",
    ),
    W(
        "nesting_deep_blocks",
        "E106",
        "schema: app\nx:\n"
        + "".join(f"{'  ' * i}- \n" for i in range(1, 200))
        + "  " * 200
        + "@@- 1\n",
    ),
    # -- NUL characters (E107) ---------------------------------------------------------------------
    R("nul_in_comment", "E107", "    comment: People.", '    comment: @@"Peo\\0ple."'),
    R("nul_in_seed_value", "E107", "name: Second,", 'name: @@"Sec\\x00ond",'),
    R("nul_in_default", "E107", "default: 0}", 'default: @@"0\\u0000"}'),
    R("nul_in_check", "E107", "\"btrim(name) <> ''\"", "@@\"btrim(name) <> '\\0'\""),
    R("nul_in_column_comment", "E107", "comment: Full name.", 'comment: @@"Full\\0"'),
    R(
        "nul_in_role_comment",
        "E107",
        "{login: false}",
        '{login: false, comment: @@"a\\0"}',
        file=GLOBAL,
    ),
    # -- files (E100, E110, E111, E112, E313) ------------------------------------------------------
    S("dangling_symlink", "E111", _dangling_link),
    S("symlink_outside_project", "E111", _link_outside),
    S("symlink_loop", "E111", _link_loop),
    S("fifo_in_schema", "E111", _fifo),
    S("file_name_with_newline", "E111", _newline_name),
    S("file_name_with_placeholder", "E111", _placeholder_name),
    S("yaml_over_the_size_cap", "E110", _huge_yaml),
    S("yaml_not_utf8", "E100", _not_utf8),
    _body_file("/etc/hostname", "E112"),
    _body_file("/dev/zero", "E112"),
    _body_file("../../../../etc/passwd", "E112"),
    _body_file(
        "../../outside.sql", "E112", lambda root: (root.parent / "outside.sql").write_text("x")
    ),
    _body_file("~/x.sql", "E112"),
    _body_file("passwd.sql", "E112", _body_link_outside),
    _body_file("zero.sql", "E112", _body_link_zero),
    _body_file("adir.sql", "E112", _body_dir),
    _body_file("pipe.sql", "E112", _body_fifo),
    _body_file("big.sql", "E110", _big_body),
    _body_file("latin1.sql", "E100", _body_not_utf8),
    _body_file("nul.sql", "E107", _body_nul),
    _body_file("missing.sql", "E313"),
    # -- seeds (E383, E384) -------------------------------------------------------------------------
    R(
        "seed_duplicate_key",
        "E383",
        '{id: "00000000-0000-0000-0000-000000000002"',
        '{id: @@"00000000-0000-0000-0000-000000000001"',
    ),
    R("seed_nan_into_integer", "E384", "size: 2,", "size: @@.nan,"),
    R("seed_inf_into_integer", "E384", "size: 2,", "size: @@.inf,"),
    R("seed_minus_inf_into_integer", "E384", "size: 1,", "size: @@-.inf,"),
    R("seed_nan_into_text", "E384", "name: Second,", "name: @@.NaN,"),
    R("seed_fraction_into_integer", "E384", "size: 2,", "size: @@2.5,"),
    R("seed_unknown_column", "E330", "name: Second, size: 2", "@@nme: Second, size: 2"),
    R("seed_unknown_key_column", "E330", "      key: [id]", "      key: [@@ident]"),
    # -- placeholders (E501) ------------------------------------------------------------------------
    R("placeholder_in_comment", "E501", "    comment: People.", "    comment: @@a ${b}"),
    R("placeholder_in_column_comment", "E501", "comment: Full name.", "comment: @@'${x}'"),
    R("placeholder_in_check", "E501", "\"btrim(name) <> ''\"", "@@\"btrim(name) <> '${x}'\""),
    R("placeholder_in_enum_value", "E501", "mood: [happy, sad]", "mood: [happy, @@'s${a}d']"),
    R(
        "placeholder_in_role_comment",
        "E501",
        "{login: false}",
        "{login: false, comment: @@'${r}'}",
        file=GLOBAL,
    ),
    R("placeholder_in_seed", "E501", "name: Second,", "name: @@'${s}',"),
    R("placeholder_in_default", "E501", "default: 0}", "default: @@\"'${d}'\"}"),
    # -- references and semantics --------------------------------------------------------------------
    R("unknown_type", "E310", "      mood: {type: mood}", "      @@mood: {type: moood}"),
    R("unknown_fk_table", "E340", "references: {table: orgs}", "references: @@{table: orgz}"),
    R(
        "unknown_role_in_grant",
        "E320",
        "grants: {app_user: [insert]}",
        "grants: {@@nobody: [insert]}",
    ),
    R(
        "unknown_role_in_table_grants",
        "E320",
        "table_grants: {app_user: [select]}",
        "table_grants: {@@ghost: [select]}",
    ),
    R(
        "privilege_for_wrong_kind",
        "E321",
        "grants: {app_user: [insert]}",
        "grants: {@@app_user: [execute]}",
    ),
    R(
        "privilege_a_column_cannot_take",
        "E321",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer, default: 0, grants: {@@app_user: [select, delete]}}",
    ),
    R(
        "all_on_a_column",
        "E321",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer, default: 0, grants: {@@app_user: [all]}}",
    ),
    R(
        "unknown_role_in_column_grant",
        "E320",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer, default: 0, grants: {@@ghost: [select]}}",
    ),
    R(
        "column_grant_option_to_public",
        "E321",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer, default: 0, grants: {@@public: [{select: with_grant_option}]}}",
    ),
    R(
        "column_privilege_not_a_privilege",
        "E105",
        "      score: {type: integer, default: 0}",
        "      score: {type: integer, default: 0, grants: {app_user: [@@selekt]}}",
    ),
    R("unknown_index_column", "E330", "      - {columns: [name]}", "      - @@{columns: [nmae]}"),
    R(
        "unknown_trigger_function",
        "E364",
        "      people_touch: {timing: before, events: [update], for_each: row, function: touch}",
        "      @@people_touch: {timing: before, events: [update], for_each: row, function: tuch}",
    ),
    R(
        "unknown_trigger_function_2",
        "E364",
        "function: touch}",
        "function: tuch}\n      @@other: {timing: after, events: [insert], for_each: row, function: nope}",
    ),
    R("identifier_too_long", "E304", "      score: {", "      @@" + "s" * 64 + ": {"),
    # 63 bytes in UTF-8, not 63 characters: 32 two-byte letters are 64 bytes.
    R("identifier_too_long_utf8", "E304", "      score: {", "      @@" + "é" * 32 + ": {"),
    R(
        "quoted_policy_name_too_long",
        "E304",
        "    triggers:\n",
        "    policies:\n      @@" + "Allow read " * 6 + ": {using: 'true'}\n    triggers:\n",
    ),
    R(
        "identity_with_default",
        "E305",
        "identity: always, primary_key: true}",
        "identity: always, primary_key: true, default: 1}",
    ),
    R("tenant_column_missing", "E307", "    tenant: true", "    tenant: @@nope"),
    R(
        "function_without_returns",
        "E105",
        "  touch:\n    language: plpgsql\n    returns: trigger\n",
        "  touch:\n    @@language: plpgsql\n",
    ),
]


def _marked(text: str) -> tuple[str, int, int]:
    """The text without its @@ mark, and the line and column the mark was at."""
    assert text.count(MARK) == 1, "a case marks exactly one position"
    at = text.index(MARK)
    before = text[:at]
    return text.replace(MARK, "", 1), before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1


def _apply(case: Case, root: Path) -> str:
    """Break the project as the case says; the `file:line:col` the error must point at."""
    if case.setup is not None:
        return case.setup(root)
    path = root / case.file
    valid = path.read_text(encoding="utf-8")
    if case.old:
        assert case.old in valid, f"{case.name}: the valid project has no {case.old!r}"
        broken = valid.replace(case.old, case.new, 1)
    else:
        broken = case.new
    if MARK in broken:
        text, line, column = _marked(broken)
    else:  # no mark: the error points at the first line of the replacement
        text = broken
        line, column = valid[: valid.index(case.old)].count("\n") + 1, 1
        line += case.old[: len(case.old) - len(case.old.lstrip())].count("\n")
        column = len(valid.split("\n")[line - 1]) - len(valid.split("\n")[line - 1].lstrip()) + 1
    path.write_text(text, encoding="utf-8")
    return f"{case.file}:{line}:{column}"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def compiled_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "base"
    shutil.copytree(BASE, root)
    result = _invoke(root, "compile")
    assert result.exit_code == 0, result.output
    return root


def _invoke(root: Path, *args: str) -> object:
    cwd = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        os.chdir(cwd)
        gc.enable()  # the CLI turns the collector off for its (normally short) process


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 120
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, compiled_base: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(compiled_base, root, symlinks=True)
    before = _snapshot(root / "generated")
    where = _apply(case, root)
    result = _invoke(root, "compile")
    output = getattr(result, "stderr", "") or getattr(result, "output", "")
    assert result.exit_code == case.exit_code, output  # type: ignore[attr-defined]
    assert "Traceback" not in output
    assert f"{where}: error[{case.code}]" in output, output
    assert _snapshot(root / "generated") == before
