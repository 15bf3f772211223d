"""Each `check --db` finding points at the YAML that declares its object (objects.locate)."""

from __future__ import annotations

import psycopg

from diff.support import SCHOOL_FILE, SCHOOL_YAML, Project, flyway_migrate, ok


def _line_of(prefix: str) -> int:
    return next(n for n, text in enumerate(SCHOOL_YAML.splitlines(), 1) if text.startswith(prefix))


def test_findings_on_members_and_routines_point_at_their_declarations(
    project: Project, database: str
) -> None:
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TRIGGER touch ON school.courses")
        conn.execute("DROP POLICY visible ON school.courses")
        conn.execute("ALTER FUNCTION school.lesson_count(bigint) SET work_mem = '8MB'")
        conn.execute("COMMENT ON VIEW school.course_titles IS 'by hand'")
    result = ok(project.check("--db", database), 1)
    lines = result.stdout.splitlines()
    expected = {
        "trigger touch on school.courses": "      touch: {timing",
        "policy visible on school.courses": "      visible: {command",
        "function school.lesson_count": "  lesson_count:",
        "view school.course_titles": "  course_titles:",
    }
    for label, declaration in expected.items():
        finding = next((line for line in lines if f": {label}" in line), None)
        assert finding is not None, (label, result.stdout)
        assert finding.startswith(f"{SCHOOL_FILE}:{_line_of(declaration)}:"), (label, finding)
