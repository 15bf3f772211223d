"""Integrity rules of the course and content domains, course search, and the indexes behind
the hot queries (user lookup at sign-in, a learner's progress in a course, the catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql


@dataclass(frozen=True)
class Catalogue:
    org: Any
    other_org: Any
    admin: Any
    learner: Any
    outsider: Any  # a user of the other organization
    course: Any
    other_course: Any
    module: Any
    lessons: tuple[Any, Any, Any]  # two required lessons, then an optional one
    video_asset: Any
    video_item: Any


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(platform_db, autocommit=True) as connection:
        yield connection


def scalar(conn: psycopg.Connection[Any], query: str | sql.Composable, params: Any = ()) -> Any:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def new_org(conn: psycopg.Connection[Any], slug: str) -> Any:
    return scalar(
        conn,
        "INSERT INTO user_management.organizations (slug, name) VALUES (%s, %s) RETURNING id",
        (slug, slug),
    )


def new_user(conn: psycopg.Connection[Any], org: Any, email: str) -> Any:
    return scalar(
        conn,
        "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%s, %s, %s) RETURNING id",
        (org, email, email.split("@")[0]),
    )


def new_course(
    conn: psycopg.Connection[Any],
    org: Any,
    slug: str,
    title: str,
    status: str = "published",
    description: str | None = None,
) -> Any:
    return scalar(
        conn,
        "INSERT INTO course_management.courses (organization_id, slug, title, description, status)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (org, slug, title, description, status),
    )


@pytest.fixture
def catalogue(conn: psycopg.Connection[Any]) -> Catalogue:
    org, other_org = new_org(conn, "hooli"), new_org(conn, "piedpiper")
    admin = new_user(conn, org, "admin@hooli.example")
    learner = new_user(conn, org, "learner@hooli.example")
    outsider = new_user(conn, other_org, "richard@piedpiper.example")
    course = new_course(conn, org, "sql-basics", "SQL basics")
    other_course = new_course(conn, org, "sql-tuning", "SQL tuning")
    module = scalar(
        conn,
        "INSERT INTO course_management.modules (organization_id, course_id, title, position) VALUES (%s, %s, 'Queries', 0) RETURNING id",
        (org, course),
    )
    lessons = tuple(
        scalar(
            conn,
            "INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position, is_required)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (org, course, module, title, position, required),
        )
        for position, (title, required) in enumerate(
            [("SELECT", True), ("JOIN", True), ("History of SQL", False)]
        )
    )
    asset = scalar(
        conn,
        "INSERT INTO content_management.media_assets (organization_id, kind, storage_key, mime_type, byte_size)"
        " VALUES (%s, 'video', 'hooli/select.mp4', 'video/mp4', 5000000) RETURNING id",
        (org,),
    )
    item = scalar(
        conn,
        "INSERT INTO content_management.content_items (organization_id, content_type, title, media_asset_id)"
        " VALUES (%s, 'video', 'SELECT explained', %s) RETURNING id",
        (org, asset),
    )
    return Catalogue(
        org, other_org, admin, learner, outsider, course, other_course, module, lessons, asset, item
    )  # type: ignore[arg-type]


def enroll(conn: psycopg.Connection[Any], c: Catalogue, user: Any, course: Any) -> Any:
    return scalar(
        conn,
        "INSERT INTO course_management.enrollments (organization_id, user_id, course_id) VALUES (%s, %s, %s) RETURNING id",
        (c.org, user, course),
    )


def test_enrolling_twice_in_a_course_is_refused(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    enroll(conn, catalogue, catalogue.learner, catalogue.course)
    with pytest.raises(psycopg.errors.UniqueViolation) as refused:
        enroll(conn, catalogue, catalogue.learner, catalogue.course)
    assert refused.value.diag.constraint_name == "enrollments_user_id_course_id_key"
    # Another course is fine.
    enroll(conn, catalogue, catalogue.learner, catalogue.other_course)


# (statement, error class, constraint that must refuse it)
BAD_ROWS = {
    "module at a negative position": (
        "INSERT INTO course_management.modules (organization_id, course_id, title, position)"
        " VALUES (%(org)s, %(course)s, 'Backwards', -1)",
        psycopg.errors.CheckViolation,
        "modules_position_check",
    ),
    "lesson at a negative position": (
        "INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)"
        " VALUES (%(org)s, %(course)s, %(module)s, 'Backwards', -1)",
        psycopg.errors.CheckViolation,
        "lessons_position_check",
    ),
    "course that requires itself": (
        "INSERT INTO course_management.course_prerequisites (organization_id, course_id, prerequisite_course_id)"
        " VALUES (%(org)s, %(course)s, %(course)s)",
        psycopg.errors.CheckViolation,
        "course_prerequisites_not_self",
    ),
    "lesson in a module of another course": (
        "INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)"
        " VALUES (%(org)s, %(other_course)s, %(module)s, 'Misplaced', 7)",
        psycopg.errors.ForeignKeyViolation,
        "lessons_organization_id_course_id_module_id_fkey",
    ),
    "enrolment of another tenant's user": (
        "INSERT INTO course_management.enrollments (organization_id, user_id, course_id)"
        " VALUES (%(org)s, %(outsider)s, %(course)s)",
        psycopg.errors.ForeignKeyViolation,
        "enrollments_organization_id_user_id_fkey",
    ),
    "progress in a lesson of another course": (
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id)"
        " VALUES (%(org)s, %(learner)s, %(other_course)s, %(lesson)s)",
        psycopg.errors.ForeignKeyViolation,
        "lesson_progress_organization_id_course_id_lesson_id_fkey",
    ),
    "progress above 100 percent": (
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, progress_percent)"
        " VALUES (%(org)s, %(learner)s, %(course)s, %(lesson)s, 100.5)",
        psycopg.errors.CheckViolation,
        "lesson_progress_progress_percent_check",
    ),
    "completion date on an unfinished lesson": (
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status, completed_at)"
        " VALUES (%(org)s, %(learner)s, %(course)s, %(lesson)s, 'in_progress', now())",
        psycopg.errors.CheckViolation,
        "lesson_progress_completed_iff_dated",
    ),
    "course ending before it starts": (
        "INSERT INTO course_management.courses (organization_id, slug, title, starts_at, ends_at)"
        " VALUES (%(org)s, 'cohort', 'Cohort', '2026-03-01', '2026-02-01')",
        psycopg.errors.CheckViolation,
        "courses_ends_after_start",
    ),
    "course slug with spaces": (
        "INSERT INTO course_management.courses (organization_id, slug, title) VALUES (%(org)s, 'sql basics', 'Dup')",
        psycopg.errors.CheckViolation,
        "courses_slug_check",
    ),
    "course slug in capitals": (
        "INSERT INTO course_management.courses (organization_id, slug, title) VALUES (%(org)s, 'SQL-Basics', 'Dup')",
        psycopg.errors.CheckViolation,
        "courses_slug_check",
    ),
    "two courses with one slug": (
        "INSERT INTO course_management.courses (organization_id, slug, title) VALUES (%(org)s, 'sql-basics', 'Dup')",
        psycopg.errors.UniqueViolation,
        "courses_organization_id_slug_key",
    ),
    "video without its file": (
        "INSERT INTO content_management.content_items (organization_id, content_type, title)"
        " VALUES (%(org)s, 'video', 'Missing file')",
        psycopg.errors.CheckViolation,
        "content_items_media_when_needed",
    ),
    "article without text": (
        "INSERT INTO content_management.content_items (organization_id, content_type, title, body)"
        " VALUES (%(org)s, 'article', 'Empty', '{\"summary\": \"none\"}')",
        psycopg.errors.CheckViolation,
        "content_items_article_has_text",
    ),
    "content body that is not an object": (
        "INSERT INTO content_management.content_items (organization_id, content_type, title, body)"
        " VALUES (%(org)s, 'interactive', 'Odd', '[1, 2]')",
        psycopg.errors.CheckViolation,
        "content_items_body_check",
    ),
    "deleting a file still in use": (
        "DELETE FROM content_management.media_assets WHERE id = %(video_asset)s",
        # ON DELETE RESTRICT: PostgreSQL 18 reports restrict_violation, 15 foreign_key_violation.
        (psycopg.errors.RestrictViolation, psycopg.errors.ForeignKeyViolation),
        "content_items_organization_id_media_asset_id_fkey",
    ),
    "unknown e-mail format": (
        "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%(org)s, 'not-an-address', 'X')",
        psycopg.errors.CheckViolation,
        "users_email_check",
    ),
    "same e-mail twice in one organization": (
        "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%(org)s, 'LEARNER@hooli.example', 'X')",
        psycopg.errors.UniqueViolation,
        "users_organization_id_email_key",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_rows_are_refused(
    conn: psycopg.Connection[Any], catalogue: Catalogue, case: str
) -> None:
    statement, error, constraint = BAD_ROWS[case]
    params = {
        "org": catalogue.org,
        "course": catalogue.course,
        "other_course": catalogue.other_course,
        "module": catalogue.module,
        "lesson": catalogue.lessons[0],
        "learner": catalogue.learner,
        "outsider": catalogue.outsider,
        "video_asset": catalogue.video_asset,
    }
    with pytest.raises(error) as refused:
        conn.execute(statement, params)
    assert refused.value.diag.constraint_name == constraint


def test_the_same_email_may_exist_in_two_organizations(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    new_user(conn, catalogue.other_org, "learner@hooli.example")


def test_prerequisite_cycles_are_refused(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    third = new_course(conn, catalogue.org, "sql-mastery", "SQL mastery")
    add = (
        "INSERT INTO course_management.course_prerequisites (organization_id, course_id, prerequisite_course_id)"
        " VALUES (%s, %s, %s)"
    )
    conn.execute(
        add, (catalogue.org, catalogue.other_course, catalogue.course)
    )  # tuning needs basics
    conn.execute(add, (catalogue.org, third, catalogue.other_course))  # mastery needs tuning
    with pytest.raises(psycopg.errors.CheckViolation, match="cycle") as refused:
        conn.execute(add, (catalogue.org, catalogue.course, third))  # basics needs mastery: a loop
    assert refused.value.diag.constraint_name == "course_prerequisites_no_cycle"
    with pytest.raises(psycopg.errors.CheckViolation, match="cycle"):
        conn.execute(
            "UPDATE course_management.course_prerequisites SET prerequisite_course_id = %s"
            " WHERE course_id = %s",
            (third, catalogue.other_course),
        )
    # Redirecting an edge without closing a loop is fine.
    conn.execute(
        "UPDATE course_management.course_prerequisites SET course_id = %s WHERE course_id = %s",
        (third, catalogue.other_course),
    )


def test_modules_swap_places_within_a_transaction(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    second = scalar(
        conn,
        "INSERT INTO course_management.modules (organization_id, course_id, title, position) VALUES (%s, %s, 'Joins', 1) RETURNING id",
        (catalogue.org, catalogue.course),
    )
    move = "UPDATE course_management.modules SET position = %s WHERE id = %s"
    with conn.transaction():
        conn.execute(move, (1, catalogue.module))
        conn.execute(move, (0, second))
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(move, (0, catalogue.module))
    positions = conn.execute(
        "SELECT id, position FROM course_management.modules WHERE course_id = %s ORDER BY position",
        (catalogue.course,),
    ).fetchall()
    assert positions == [(second, 0), (catalogue.module, 1)]


def test_finishing_the_required_lessons_completes_the_enrolment(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    enrollment = enroll(conn, catalogue, catalogue.learner, catalogue.course)
    required_1, required_2, optional = catalogue.lessons
    progress = (
        "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, lesson_id) DO UPDATE SET status = excluded.status"
    )

    def state() -> tuple[Any, ...]:
        row = conn.execute(
            "SELECT status::text, progress_percent, completed_at IS NOT NULL, started_at IS NOT NULL"
            " FROM course_management.enrollments WHERE id = %s",
            (enrollment,),
        ).fetchone()
        assert row is not None
        return tuple(row)

    assert state() == ("active", 0, False, False)
    conn.execute(
        progress, (catalogue.org, catalogue.learner, catalogue.course, required_1, "in_progress")
    )
    assert state() == ("active", 0, False, True)
    conn.execute(
        progress, (catalogue.org, catalogue.learner, catalogue.course, required_1, "completed")
    )
    conn.execute(
        progress, (catalogue.org, catalogue.learner, catalogue.course, optional, "completed")
    )
    assert state() == ("active", 50, False, True)
    conn.execute(
        progress, (catalogue.org, catalogue.learner, catalogue.course, required_2, "completed")
    )
    assert state() == ("completed", 100, True, True)
    stamped = conn.execute(
        "SELECT count(*) FROM course_management.lesson_progress"
        " WHERE user_id = %s AND status = 'completed' AND completed_at IS NOT NULL AND started_at <= completed_at",
        (catalogue.learner,),
    ).fetchone()
    assert stamped == (3,)


def test_course_search_matches_word_stems(
    conn: psycopg.Connection[Any], catalogue: Catalogue
) -> None:
    design = new_course(
        conn,
        catalogue.org,
        "db-design",
        "Relational database design",
        description="Normal forms and keys.",
    )
    new_course(
        conn, catalogue.org, "watercolour", "Watercolour painting", description="Brushes and paper."
    )
    internals = new_course(
        conn,
        catalogue.org,
        "db-internals",
        "Storage engines",
        status="draft",
        description="How a database stores pages.",
    )
    new_course(conn, catalogue.other_org, "db-elsewhere", "Database design elsewhere")

    matches = conn.execute(
        "SELECT id FROM course_management.courses"
        " WHERE search @@ websearch_to_tsquery('english', 'databases') AND organization_id = %s ORDER BY slug",
        (catalogue.org,),
    ).fetchall()
    assert matches == [(design,), (internals,)]

    conn.execute("SET ROLE app_user")
    conn.execute(
        "SELECT set_config('app.current_organization_id', %s, false)", (str(catalogue.org),)
    )
    found = conn.execute(
        "SELECT course_id, title FROM course_management.search_courses('designing databases')"
    ).fetchall()
    # Drafts stay out of the catalogue, and so do other tenants' courses.
    assert found == [(design, "Relational database design")]
    assert conn.execute(
        "SELECT count(*) FROM course_management.search_courses('painting -watercolour')"
    ).fetchone() == (0,)


# --- indexes behind the hot queries -----------------------------------------------------------

USERS = 3000
COURSES = 6000
PROGRESS_USERS = 100
PROGRESS_COURSES = 10
LESSONS_PER_COURSE = 5


@pytest.fixture
def big_tenant(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """One organization with thousands of rows, so the planner has a real choice to make."""
    org = new_org(conn, "massive")
    other = new_org(conn, "tiny")
    with conn.transaction():
        conn.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name)"
            " SELECT %s, format('user%%s@massive.example', g), format('User %%s', g) FROM generate_series(1, %s) AS g",
            (org, USERS),
        )
        conn.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name)"
            " SELECT %s, format('user%%s@massive.example', g), 'Twin' FROM generate_series(1, 50) AS g",
            (other,),
        )
        conn.execute(
            "INSERT INTO course_management.course_categories (organization_id, name, slug)"
            " SELECT %s, format('Category %%s', g), format('category-%%s', g) FROM generate_series(1, 30) AS g",
            (org,),
        )
        conn.execute(
            """
            INSERT INTO course_management.courses (organization_id, category_id, slug, title, description, status)
            SELECT %(org)s, c.id, format('course-%%s', g),
                   format('Course %%s about %%s', g, (ARRAY['gardening', 'cooking', 'finance', 'history'])[g %% 4 + 1]),
                   'A course of the big catalogue.',
                   (ARRAY['draft', 'published', 'archived']::course_management.course_status[])[g %% 3 + 1]
              FROM generate_series(1, %(n)s) AS g
              JOIN course_management.course_categories AS c
                ON c.organization_id = %(org)s AND c.slug = format('category-%%s', g %% 30 + 1)
            """,
            {"org": org, "n": COURSES},
        )
        database_course = new_course(conn, org, "databases-101", "Introduction to databases")
        conn.execute(
            """
            WITH picked AS (
              SELECT id, row_number() OVER (ORDER BY slug) AS n FROM course_management.courses
               WHERE organization_id = %(org)s AND status = 'published' LIMIT %(courses)s
            ), modules AS (
              INSERT INTO course_management.modules (organization_id, course_id, title, position)
              SELECT %(org)s, id, 'Only module', 0 FROM picked RETURNING id, course_id
            )
            INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)
            SELECT %(org)s, m.course_id, m.id, format('Lesson %%s', l), l
              FROM modules AS m CROSS JOIN generate_series(0, %(lessons)s - 1) AS l
            """,
            {"org": org, "courses": PROGRESS_COURSES, "lessons": LESSONS_PER_COURSE},
        )
        conn.execute(
            """
            INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)
            SELECT %(org)s, u.id, l.course_id, l.id, 'in_progress'
              FROM (SELECT id FROM user_management.users WHERE organization_id = %(org)s ORDER BY email LIMIT %(users)s) AS u
             CROSS JOIN course_management.lessons AS l
             WHERE l.organization_id = %(org)s
            """,
            {"org": org, "users": PROGRESS_USERS},
        )
    for table in (
        "user_management.users",
        "course_management.courses",
        "course_management.lessons",
        "course_management.lesson_progress",
    ):
        # The steady state autovacuum keeps a live database in: fresh statistics, no GIN pending list.
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(table)))
    learner, course = conn.execute(
        "SELECT user_id, course_id FROM course_management.lesson_progress WHERE organization_id = %s LIMIT 1",
        (org,),
    ).fetchone()  # type: ignore[misc]
    category = scalar(
        conn,
        "SELECT id FROM course_management.course_categories WHERE slug = 'category-7' AND organization_id = %s",
        (org,),
    )
    assert scalar(
        conn,
        "SELECT count(*) FROM course_management.lesson_progress WHERE organization_id = %s",
        (org,),
    ) == (PROGRESS_USERS * PROGRESS_COURSES * LESSONS_PER_COURSE)
    conn.execute("SET ROLE app_user")
    conn.execute("SELECT set_config('app.current_organization_id', %s, false)", (str(org),))
    return {
        "org": org,
        "learner": learner,
        "course": course,
        "category": category,
        "database_course": database_course,
    }


def plan_nodes(conn: psycopg.Connection[Any], query: sql.Composable) -> list[dict[str, Any]]:
    """Every node of the EXPLAIN plan, flattened."""
    plan = scalar(conn, sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query))[0]["Plan"]
    nodes, pending = [], [plan]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def index_used(conn: psycopg.Connection[Any], query: sql.Composable) -> set[str]:
    return {node["Index Name"] for node in plan_nodes(conn, query) if "Index Name" in node}


def test_sign_in_finds_the_user_by_email_through_an_index(
    conn: psycopg.Connection[Any], big_tenant: dict[str, Any]
) -> None:
    # As the application does it: the address typed at sign-in, folded like the stored ones.
    query = sql.SQL(
        "SELECT id, password_hash FROM user_management.users WHERE organization_id = {} AND email = lower({})"
    ).format(sql.Literal(big_tenant["org"]), sql.Literal("USER1234@Massive.example"))
    assert index_used(conn, query) == {"users_organization_id_email_key"}
    assert len(conn.execute(query).fetchall()) == 1


def test_progress_of_a_learner_in_a_course_uses_an_index(
    conn: psycopg.Connection[Any], big_tenant: dict[str, Any]
) -> None:
    query = sql.SQL(
        "SELECT lesson_id, status, progress_percent FROM course_management.lesson_progress"
        " WHERE user_id = {} AND course_id = {}"
    ).format(sql.Literal(big_tenant["learner"]), sql.Literal(big_tenant["course"]))
    assert index_used(conn, query) == {"lesson_progress_user_course_idx"}
    assert len(conn.execute(query).fetchall()) == LESSONS_PER_COURSE


def test_catalogue_browsing_uses_its_index(
    conn: psycopg.Connection[Any], big_tenant: dict[str, Any]
) -> None:
    browse = sql.SQL(
        "SELECT id, title FROM course_management.courses WHERE organization_id = {} AND status = 'published' AND category_id = {}"
    ).format(sql.Literal(big_tenant["org"]), sql.Literal(big_tenant["category"]))
    assert "courses_catalogue_idx" in index_used(conn, browse)


def test_course_search_uses_the_full_text_index(
    conn: psycopg.Connection[Any], big_tenant: dict[str, Any]
) -> None:
    # search_courses() runs as its owner, so EXPLAIN of the call shows nothing of its query;
    # auto_explain reports the plans of the statements run inside it.
    conn.execute("RESET ROLE")
    conn.execute("LOAD 'auto_explain'")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_nested_statements = on")
    conn.execute("SET auto_explain.log_format = 'json'")
    conn.execute("SET client_min_messages = log")
    plans: list[str] = []
    conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
    conn.execute("SET ROLE app_user")
    found = conn.execute(
        "SELECT course_id FROM course_management.search_courses('databases')"
    ).fetchall()
    assert found == [(big_tenant["database_course"],)]
    inner = [plan for plan in plans if "course_management.courses" in plan and "search" in plan]
    assert inner, plans
    assert any('"Index Name": "courses_search_idx"' in plan for plan in inner), "\n".join(inner)
