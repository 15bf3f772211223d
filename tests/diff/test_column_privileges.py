"""Column privileges (`GRANT SELECT (col)`, pg_attribute.attacl): a column's `grants:` are
exact like a table's. `diff` writes GRANT ... (col) and derives the REVOKEs, a renamed column
keeps its grants, a dropped column takes them with it (no REVOKE), `check --db` names a
hand-made column grant, and the pg_dump oracle proves each step."""

from __future__ import annotations

import json

import psycopg

from diff.support import Project, flyway_migrate, ok
from diff.test_changes import diff_and_prove

PRICE = '      price: {type: "numeric(8,2)"}\n'
CODE = '      code: {type: "varchar(20)"}\n'


def test_column_grants_are_granted_changed_revoked_and_dropped(project: Project) -> None:
    project.edit(
        PRICE,
        '      price:\n        type: "numeric(8,2)"\n'
        "        grants: {school_reader: [select, {update: with_grant_option}]}\n",
    )
    sql = diff_and_prove(project, "price readable").replace('"', "")
    assert "grant select (price) on table school.courses to school_reader;" in sql, sql
    assert (
        "grant update (price) on table school.courses to school_reader with grant option;" in sql
    ), sql
    # SELECT taken away, UPDATE's grant option taken away, INSERT given: revokes derived
    project.edit(
        "grants: {school_reader: [select, {update: with_grant_option}]}",
        "grants: {school_reader: [update, insert]}",
    )
    sql = diff_and_prove(project, "price writable").replace('"', "")
    assert "revoke select (price) on table school.courses from school_reader;" in sql, sql
    assert (
        "revoke grant option for update (price) on table school.courses from school_reader;" in sql
    ), sql
    assert "grant insert (price) on table school.courses to school_reader;" in sql, sql
    assert "on table school.courses to" not in sql.replace("(price) on table", ""), sql
    # every privilege taken away: the ACL PostgreSQL leaves ('{}') reads as none, check is clean
    project.edit(CODE, '      code: {type: "varchar(20)", grants: {school_reader: [select]}}\n')
    diff_and_prove(project, "code readable")
    project.edit("grants: {school_reader: [select]}}", "grants: {}}")
    sql = diff_and_prove(project, "code closed").replace('"', "")
    assert "revoke select (code) on table school.courses from school_reader;" in sql, sql
    # the column dropped: PostgreSQL drops its ACL with it, so no REVOKE is written
    project.edit(
        '      price:\n        type: "numeric(8,2)"\n'
        "        grants: {school_reader: [update, insert]}\n",
        "",
    )
    sql = diff_and_prove(project, "price dropped", "--allow-destructive")
    assert "revoke" not in sql, sql


def test_a_renamed_column_keeps_its_grants(project: Project) -> None:
    project.edit(
        CODE, '      code:\n        type: "varchar(20)"\n        grants: {public: [select]}\n'
    )
    diff_and_prove(project, "code public")
    project.edit(
        '      code:\n        type: "varchar(20)"\n',
        '      course_code:\n        type: "varchar(20)"\n        renamed_from: code\n',
    )
    sql = diff_and_prove(project, "code renamed").replace('"', "")
    assert "rename column code to course_code" in sql, sql
    assert "grant" not in sql and "revoke" not in sql, sql


def test_check_db_names_a_hand_made_column_grant(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("GRANT SELECT (code), UPDATE (code) ON school.courses TO school_reader")
    result = ok(project.check("--db", database, "--format", "json"), 1)
    findings = json.loads(result.stdout)["findings"]
    found = [f for f in findings if "code" in f["message"]]
    assert found, findings
    assert found[0]["message"].endswith(
        "privileges: not declared SELECT to school_reader, UPDATE to school_reader"
    ), found
    assert "table column school.courses.code: privileges" in found[0]["message"], found
    # located at the table's YAML line, where its columns are declared
    assert (found[0]["file"] or "").endswith("01_school.yaml"), found
    lines = (project.root / "schema" / "01_school.yaml").read_text().splitlines()
    assert lines[found[0]["line"] - 1].strip() in ("courses:", "code:"), found
