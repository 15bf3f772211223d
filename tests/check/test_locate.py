"""Each `check --db` finding points at the YAML that declares its object (objects.locate)."""

from __future__ import annotations

from pathlib import Path

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


COLLIDING = Path(__file__).parents[1] / "cases" / "colliding_names" / "schema"


def test_findings_on_objects_whose_dotted_labels_collide_point_at_their_own_lines(
    project: Project, database: str
) -> None:
    # Trigger x on a."b.c" and trigger "c.x" on a.b are both labelled a.b.c.x; policy "x.y" on
    # a.t and policy y on a."t.x" both a.t.x.y: each finding is located by its parts.
    for source in sorted(COLLIDING.glob("*.yaml")):
        project.write(f"schema/{source.name}", source.read_text(encoding="utf-8"))
    ok(project.diff("add colliding names"))
    flyway_migrate(database, project.generated)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('DROP TRIGGER "x" ON "a"."b.c"')
        conn.execute('DROP POLICY "x.y" ON "a"."t"')
    result = ok(project.check("--db", database), 1)
    yaml = (COLLIDING / "01_a.yaml").read_text(encoding="utf-8").splitlines()

    def line_of(prefix: str) -> int:
        return next(n for n, text in enumerate(yaml, 1) if text.startswith(prefix))

    located = {line.split(": ", 1)[0] for line in result.stdout.splitlines()}
    for dropped in ("      x: {timing", "      x.y: {command"):
        assert f"schema/01_a.yaml:{line_of(dropped)}" in {p.rsplit(":", 1)[0] for p in located}, (
            dropped,
            result.stdout,
        )
    for kept in ("      c.x: {timing", "      y: {command"):
        assert not any(p.startswith(f"schema/01_a.yaml:{line_of(kept)}:") for p in located), (
            kept,
            result.stdout,
        )
