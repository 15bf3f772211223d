"""`schemac check` and `diff` through the real CLI: what only the catalog model comparison sees."""

from __future__ import annotations

import psycopg

from diff.support import Project, flyway_migrate, ok


def test_check_db_finds_a_hand_altered_search_path_and_replica_identity(
    project: Project, database: str
) -> None:
    flyway_migrate(database, project.generated)
    ok(project.check("--db", database))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("ALTER FUNCTION school.lesson_count(bigint) SET search_path = pg_catalog")
        conn.execute("ALTER TABLE school.lessons REPLICA IDENTITY FULL")
        conn.execute("CREATE PUBLICATION hand_made FOR TABLE school.lessons")
    result = ok(project.check("--db", database), 1)
    assert "publication hand_made: not declared in the YAML" in result.stdout
    lines = result.stdout.splitlines()
    function = next(line for line in lines if "function school.lesson_count" in line)
    assert "search_path" in function, result.stdout
    table = next(line for line in lines if "table school.lessons" in line)
    assert "replica identity is 'full', the YAML says 'default'" in table, result.stdout
    # Each finding points at the YAML that declares the object.
    assert function.startswith("schema/01_school.yaml:"), function


def test_check_db_finds_a_hand_changed_role_comment(project: Project, database: str) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("COMMENT ON ROLE school_reader IS 'changed by hand'")
    try:
        result = ok(project.check("--db", database), 1)
        assert "role school_reader: comment is 'changed by hand', the YAML says none" in (
            result.stdout
        )
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("COMMENT ON ROLE school_reader IS NULL")


def test_a_role_comment_with_a_blank_line_is_migrated_and_then_checks_clean(
    project: Project,
) -> None:
    project.edit(
        "school_app: {comment: The application.}",
        'school_app: {comment: "The application.\\n\\nIt never owns objects."}',
        "schema/00_global.yaml",
    )
    result = ok(project.diff("role comment"))
    assert "It never owns objects." in project.migration("role_comment"), result.stdout
    ok(project.check())


def test_a_function_setting_is_never_lost_in_silence(project: Project) -> None:
    project.edit(
        "    volatility: stable\n",
        "    volatility: stable\n    set: {search_path: pg_catalog}\n",
    )
    result = project.diff("search path")
    said = result.stdout + result.stderr
    assert "no difference" not in said
    if result.returncode == 0:  # migrated: the migrations must now build the YAML exactly
        ok(project.check())
    else:  # refused: loudly, naming the function
        ok(result, 2)
        assert "function school.lesson_count" in said


def test_a_column_declared_mid_table_is_a_warning_in_diff_and_check(project: Project) -> None:
    project.edit(
        '      price: {type: "numeric(8,2)"}\n',
        '      subtitle: {type: text}\n      price: {type: "numeric(8,2)"}\n',
    )
    result = ok(project.diff("subtitle"))
    said = result.stdout + result.stderr
    assert "column subtitle of school.courses is declared after column" in said
    assert "PostgreSQL adds columns at the end of a table" in said
    result = ok(project.check())
    assert "warning: table school.courses: columns are in the order" in result.stdout
    assert "(1 warning)" in result.stdout


def test_check_finds_a_function_setting_and_argument_default_the_migrations_lack(
    project: Project,
) -> None:
    project.edit(
        "    arguments: [{name: p_course, type: bigint}]\n    volatility: stable\n",
        "    arguments: [{name: p_course, type: bigint, default: '0'}]\n    volatility: stable\n"
        "    set: {search_path: pg_catalog}\n",
    )
    result = ok(project.check(), 1)
    finding = next(
        line for line in result.stdout.splitlines() if "function school.lesson_count" in line
    )
    assert "the migrations do not build what the YAML declares" in finding
    assert "settings is (), the YAML says (('search_path', 'pg_catalog'),)" in finding
    assert "argument 1: default is none, the YAML says '0'" in finding
