"""A table of risky changes, each planned by the real `schemac diff` on the school project:
the files written and their statements, the plan's hazards, squawk's verdict, and that the
migrations replay exactly (`schemac check`, then the pg_dump oracle)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from diff.oracle import assert_migrations_build_desired_state
from diff.support import Project, ok

ACKNOWLEDGE_TYPE_CHANGE = """\
version_width: 3
lint:
  acknowledge:
    - {rule: table-rewrite, object: school.lessons, reason: lessons is small; a minute of lock}
"""
ACKNOWLEDGE_DROP = """\
version_width: 3
lint:
  acknowledge:
    - {rule: deletes-data, object: school.courses, reason: course codes were never used}
"""


@dataclass(frozen=True)
class Case:
    old: str  # the piece of 01_school.yaml that changes
    new: str
    files: dict[str, list[str]]  # file suffix -> statements (lower case) it must hold, in order
    hazards: set[str]  # the codes of the plan's hazards, info included
    squawk_ok: bool  # `schemac lint: ok` for the files written
    settings: str | None = None  # schemac.yaml, when the case needs an acknowledgement
    refused_without: str | None = None  # refused (exit 2, nothing written) without this


CASES = {
    "index on an existing table": Case(
        "      - {columns: [level, created_at desc]}\n",
        "      - {columns: [level, created_at desc]}\n      - {columns: [price]}\n",
        {
            "_index_courses_price_idx": [
                "set lock_timeout = '0';",
                "create index concurrently courses_price_idx on school.courses (price);",
                "reset lock_timeout;",
            ]
        },
        {"index-build"},
        True,
    ),
    "foreign key on an existing table": Case(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: integer, not_null: true, default: "0"}\n'
        "      follows: {type: bigint, references: courses}\n",
        {
            "": [
                "set local lock_timeout = '5s';",
                "set local statement_timeout = '5min';",
                'alter table "school"."lessons" add column "follows" bigint;',
                "foreign key (follows) references school.courses(id) not valid;",
            ],
            "_validate": [
                "set local statement_timeout = '0';",
                'alter table "school"."lessons" validate constraint "lessons_follows_fkey";',
            ],
        },
        {"access-exclusive-lock", "full-scan-under-lock"},
        True,
    ),
    "check on an existing table": Case(
        "      title_not_blank: \"btrim(title) <> ''\"\n",
        '      title_not_blank: "btrim(title) <> \'\'"\n      price_positive: "price >= 0"\n',
        {
            "": ['add constraint "price_positive" check ((price >= (0)::numeric)) not valid;'],
            "_validate": ['alter table "school"."courses" validate constraint "price_positive";'],
        },
        {"access-exclusive-lock", "full-scan-under-lock"},
        True,
    ),
    "not null on an existing column": Case(
        '      price: {type: "numeric(8,2)"}\n',
        '      price: {type: "numeric(8,2)", not_null: true}\n',
        {
            "": [
                'alter table "school"."courses" add constraint "courses_price_not_null_check" '
                'check ("price" is not null) not valid;'
            ],
            "_validate": [
                'alter table "school"."courses" validate constraint "courses_price_not_null_check";'
            ],
            "_not_null": [
                'alter table "school"."courses" alter column "price" set not null;',
                'alter table "school"."courses" drop constraint "courses_price_not_null_check";',
            ],
        },
        {"access-exclusive-lock", "full-scan-under-lock"},
        True,
    ),
    "type change that rewrites": Case(
        '      position: {type: integer, not_null: true, default: "0"}\n',
        '      position: {type: bigint, not_null: true, default: "0"}\n',
        {"": ['alter table "school"."lessons" alter column "position" set data type bigint']},
        {"access-exclusive-lock", "table-rewrite"},
        True,  # squawk's changing-column-type is acknowledged by the same acknowledgement
        settings=ACKNOWLEDGE_TYPE_CHANGE,
        refused_without="--allow-rewrite",
    ),
    "column drop": Case(
        '      code: {type: "varchar(20)"}\n',
        "",
        {"": ['alter table "school"."courses" drop column "code";']},
        {"access-exclusive-lock", "deletes-data"},
        True,  # squawk's ban-drop-column is acknowledged by the same acknowledgement
        settings=ACKNOWLEDGE_DROP,
        refused_without="--allow-destructive",
    ),
    "enum value added": Case(
        "  level: [beginner, advanced]\n",
        "  level: [beginner, advanced, expert]\n",
        {"": ["alter type school.level add value 'expert' after 'advanced';"]},
        set(),
        True,
    ),
    "view change": Case(
        "    query: SELECT id, title, level FROM school.courses\n",
        "    query: SELECT id, title, level, price FROM school.courses\n",
        {"": ['drop view "school"."course_titles";', 'create view "school"."course_titles" as']},
        {"access-exclusive-lock", "untrackable-dependency"},
        True,
    ),
    "policy change": Case(
        '      visible: {command: select, using: "true"}\n',
        "      visible: {command: select, using: \"level = 'beginner'\"}\n",
        {"": ["policy"]},
        {"access-exclusive-lock", "authorization-change"},
        True,
    ),
    "row level security turned off": Case(
        "    row_level_security: {enable: true}\n    policies:\n"
        '      visible: {command: select, using: "true"}\n',
        "",
        {"": ["disable row level security"]},
        {"access-exclusive-lock", "authorization-change"},
        True,
    ),
}


def _hazard_codes(stderr: str) -> set[str]:
    """The codes diff printed for its plan (`file:line: severity[code]: ...`)."""
    codes = set()
    for line in stderr.splitlines():
        if line.startswith("generated/migrations/") and "[" in line and "squawk:" not in line:
            codes.add(line.split("[", 1)[1].split("]", 1)[0])
    return codes


@pytest.mark.parametrize("name", sorted(CASES))
def test_risky_change(project: Project, name: str) -> None:
    case = CASES[name]
    if case.refused_without:
        project.edit(case.old, case.new)
        before = project.snapshot()
        refused = ok(project.diff(name), 2)
        assert "refused:" in refused.stderr and case.refused_without in refused.stderr
        assert project.snapshot() == before  # nothing written
        assert case.settings is not None
        project.write("schemac.yaml", case.settings)
    else:
        project.edit(case.old, case.new)
    result = ok(project.diff(name), 0)
    written = [n for n in project.migrations() if not n.startswith("V001")]
    suffixes = {n.removeprefix("V00").split("__", 1)[1].removesuffix(".sql") for n in written}
    slug = name.replace(" ", "_")
    assert suffixes == {slug + s for s in case.files}, written
    for suffix, statements in case.files.items():
        (file,) = [n for n in written if n.endswith(f"__{slug}{suffix}.sql")]
        text = " ".join(project.read(f"generated/migrations/{file}").lower().split())
        position = 0
        for statement in statements:
            found = text.find(statement, position)
            assert found >= 0, f"{file}: {statement!r} not in order in\n{text}"
            position = found + len(statement)
        conf = project.generated / "migrations" / f"{file}.conf"
        assert conf.is_file() is ("_index_" in file)  # executeInTransaction=false
        if "_index_" not in file:
            assert text.count("set local lock_timeout") == 1, file
    shown = _hazard_codes(result.stderr)
    assert case.hazards <= shown, result.stderr
    summary = [line for line in result.stderr.splitlines() if line.startswith("schemac lint: ")]
    assert summary and summary[0].startswith(
        "schemac lint: ok" if case.squawk_ok else "schemac lint: fails"
    ), result.stderr
    check = ok(project.check())
    assert "schemac check: ok" in check.stdout
    assert project.server is not None
    assert_migrations_build_desired_state(project.server, project.root)
