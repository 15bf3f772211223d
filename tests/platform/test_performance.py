"""Hot queries of the platform use their indexes.

One database per module is filled with a few thousand rows per hot table (through the real
triggers, so the derived gamification tables are filled the way production fills them), vacuumed
and analysed; then each hot query is planned with EXPLAIN (FORMAT JSON) as the application would
run it (app_user, row-level security on, one tenant set). The planner is left alone (no
enable_seqscan=off): a query passes only when the planner itself prefers the index.

Row-level security matters here: PostgreSQL applies a user's condition ahead of the tenant policy
(and so as an index condition) only when its operator is LEAKPROOF. uuid, text and timestamptz
comparisons are; citext, enum equality and the full-text @@ are not. The search functions are
therefore security definer and are checked through auto_explain, which reports the plan of the
statement inside the function.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from schemac.shadow import PostgresServer, scratch_database

ORGANIZATIONS = 10
USERS_PER_ORGANIZATION = 400
COURSES_PER_ORGANIZATION = 300

# Set-based, so seeding takes seconds; every statement goes through the tables' triggers.
SEED_SQL = [
    f"""
    INSERT INTO user_management.organizations (slug, name)
    SELECT 'org-' || g, 'Organization ' || g FROM generate_series(1, {ORGANIZATIONS}) AS g
    """,
    f"""
    INSERT INTO user_management.users (organization_id, email, display_name, is_active)
    SELECT o.id, 'user' || g || '@' || o.slug || '.example', 'User ' || g, g % 25 <> 0
      FROM user_management.organizations AS o, generate_series(1, {USERS_PER_ORGANIZATION}) AS g
    """,
    """
    INSERT INTO course_management.course_categories (organization_id, name, slug, position)
    SELECT o.id, 'Category ' || g, 'category-' || g, g
      FROM user_management.organizations AS o, generate_series(1, 10) AS g
    """,
    f"""
    INSERT INTO course_management.courses
           (organization_id, category_id, slug, title, description, status, level, created_at)
    SELECT o.id,
           (SELECT c.id FROM course_management.course_categories AS c
             WHERE c.organization_id = o.id AND c.position = 1 + g % 10),
           'course-' || g,
           (ARRAY['PostgreSQL', 'Python', 'Statistics', 'Leadership', 'Design', 'Security',
                  'Marketing', 'Finance', 'Biology', 'History'])[1 + g % 10]
             || ' ' || (ARRAY['Basics', 'in Practice', 'Deep Dive', 'for Managers', 'Workshop'])[1 + (g / 10) % 5]
             || ' ' || g,
           'A course about ' || (ARRAY['tables and indexes', 'data pipelines', 'teams', 'budgets',
                                       'cells', 'empires', 'threat models'])[1 + g % 7],
           (CASE WHEN g % 10 < 7 THEN 'published' WHEN g % 10 < 9 THEN 'draft' ELSE 'archived' END)
             ::course_management.course_status,
           (ARRAY['beginner', 'intermediate', 'advanced', 'expert'])[1 + g % 4]::course_management.course_level,
           now() - g * interval '1 hour'
      FROM user_management.organizations AS o, generate_series(1, {COURSES_PER_ORGANIZATION}) AS g
    """,
    """
    INSERT INTO course_management.modules (organization_id, course_id, title, position)
    SELECT c.organization_id, c.id, 'Module 1', 0 FROM course_management.courses AS c
    """,
    """
    INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)
    SELECT m.organization_id, m.course_id, m.id, 'Lesson ' || (p + 1), p
      FROM course_management.modules AS m, generate_series(0, 2) AS p
    """,
    f"""
    WITH u AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM user_management.users),
         c AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM course_management.courses)
    INSERT INTO course_management.enrollments (organization_id, user_id, course_id, enrolled_at)
    SELECT u.organization_id, u.id, c.id, now() - (u.n % 90) * interval '1 day'
      FROM u
      CROSS JOIN generate_series(0, 2) AS k
      JOIN c ON c.organization_id = u.organization_id
            AND c.n = 1 + (u.n * 7 + k * 101) % {COURSES_PER_ORGANIZATION}
    """,
    # Progress in one course per learner: two lessons completed out of three for most.
    """
    INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)
    SELECT e.organization_id, e.user_id, e.course_id, l.id,
           (CASE WHEN (l.position + hashtext(e.user_id::text)) % 3 = 0 THEN 'in_progress' ELSE 'completed' END)
             ::course_management.progress_status
      FROM (SELECT DISTINCT ON (user_id) * FROM course_management.enrollments ORDER BY user_id, course_id) AS e
      JOIN course_management.lessons AS l ON l.course_id = e.course_id
    """,
    # Spread the ledger over half a year, as if the points had been earned over time.
    """
    UPDATE gamification.point_transactions
       SET occurred_at = now() - (id % 180) * interval '1 day' - (id % 1440) * interval '1 minute'
    """,
    """
    INSERT INTO social.forums (organization_id, slug, title)
    SELECT o.id, 'general', 'General discussion' FROM user_management.organizations AS o
    """,
    """
    INSERT INTO social.threads (organization_id, forum_id, title)
    SELECT f.organization_id, f.id, 'Thread ' || g FROM social.forums AS f, generate_series(1, 50) AS g
    """,
    """
    WITH u AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM user_management.users)
    INSERT INTO social.posts (organization_id, thread_id, author_id, body, created_at)
    SELECT t.organization_id, t.id, u.id,
           CASE WHEN g = 1 AND t.title = 'Thread 7'
                THEN 'Autovacuum kept vacuuming the big table all night.'
                ELSE (ARRAY['Thanks, that helped a lot.', 'Where are the slides of week two?',
                            'I think the answer to question three is wrong.',
                            'Great explanation of joins and window functions.',
                            'Could someone share their notes?'])[1 + (g + u.n::integer) % 5]
           END,
           now() - (g * 37 + u.n) * interval '1 minute'
      FROM social.threads AS t
      CROSS JOIN generate_series(1, 6) AS g
      JOIN u ON u.organization_id = t.organization_id
            AND u.n = 1 + (hashtext(t.id::text || g) & 1023) % 400
    """,
    """
    WITH u AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM user_management.users)
    INSERT INTO social.conversations (organization_id, created_by, subject)
    SELECT u.organization_id, u.id, 'Study group ' || u.n FROM u WHERE u.n <= 200
    """,
    """
    WITH u AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM user_management.users)
    INSERT INTO social.conversation_participants (organization_id, conversation_id, user_id, joined_at)
    SELECT c.organization_id, c.id, u.id, now() - interval '30 days'
      FROM social.conversations AS c
      JOIN u AS creator ON creator.id = c.created_by
      JOIN u ON u.organization_id = c.organization_id AND u.n IN (creator.n, creator.n + 1, creator.n + 200)
    """,
    """
    INSERT INTO social.messages (organization_id, conversation_id, sender_id, body, created_at)
    SELECT p.organization_id, p.conversation_id, p.user_id, 'Message ' || g,
           now() - interval '20 days' + g * interval '4 days 7 hours'
             + (hashtext(p.user_id::text) % 600) * interval '1 minute'
      FROM social.conversation_participants AS p, generate_series(1, 4) AS g
    """,
    # Read markers: a third never opened the conversation, a third read it ten days ago, a third
    # has read everything.
    """
    UPDATE social.conversation_participants
       SET last_read_at = CASE abs(hashtext(user_id::text)) % 3
                            WHEN 0 THEN NULL
                            WHEN 1 THEN now() - interval '10 days'
                            ELSE now()
                          END
    """,
    """
    WITH u AS (SELECT id, organization_id,
                      row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
                 FROM user_management.users)
    INSERT INTO analytics.learning_events (organization_id, user_id, event_type, occurred_at)
    SELECT u.organization_id, u.id,
           (ARRAY['lesson_viewed', 'lesson_completed', 'quiz_passed', 'forum_post_created'])[1 + g % 4],
           timestamptz '2026-09-01 00:00:00+00'
             + (abs(hashtext(u.id::text || g)) % 150000) * interval '1 minute'
      FROM u, generate_series(1, 6) AS g
    """,
]


@dataclass(frozen=True)
class Sample:
    """Values the hot queries are run with, all from the first organization."""

    organization_id: str
    email: str
    category_id: str
    progress_user_id: str
    progress_course_id: str
    member_with_messages: str


@dataclass(frozen=True)
class SeededDatabase:
    url: str
    sample: Sample


@pytest.fixture(scope="module")
def seeded(pg_server: PostgresServer, platform_template: str) -> Iterator[SeededDatabase]:
    with scratch_database(pg_server, template=platform_template) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            started = time.monotonic()
            for statement in SEED_SQL:
                conn.execute(statement)
            conn.execute("VACUUM ANALYZE")
            seconds = time.monotonic() - started
            sample = Sample(
                *(
                    str(value)
                    for value in conn.execute(
                        """
                SELECT o.id,
                       (SELECT u.email FROM user_management.users AS u
                         WHERE u.organization_id = o.id ORDER BY u.email OFFSET 123 LIMIT 1),
                       (SELECT c.id FROM course_management.course_categories AS c
                         WHERE c.organization_id = o.id AND c.position = 3),
                       lp.user_id, lp.course_id,
                       (SELECT p.user_id FROM social.conversation_participants AS p
                         WHERE p.organization_id = o.id AND p.last_read_at IS NULL
                         ORDER BY p.user_id LIMIT 1)
                  FROM user_management.organizations AS o
                  JOIN course_management.lesson_progress AS lp ON lp.organization_id = o.id
                 WHERE o.slug = 'org-1'
                 ORDER BY lp.user_id
                 LIMIT 1
                """
                    ).fetchone()
                )
            )
            counts = dict(
                conn.execute(
                    """
                SELECT 'users', count(*) FROM user_management.users
                UNION ALL SELECT 'courses', count(*) FROM course_management.courses
                UNION ALL SELECT 'lesson_progress', count(*) FROM course_management.lesson_progress
                UNION ALL SELECT 'point_transactions', count(*) FROM gamification.point_transactions
                UNION ALL SELECT 'messages', count(*) FROM social.messages
                UNION ALL SELECT 'posts', count(*) FROM social.posts
                """
                ).fetchall()
            )
        # Guards the premise: with too few rows a sequential scan is the right plan.
        assert min(counts.values()) >= 2000, counts
        print(f"seeded in {seconds:.1f} s: {counts}")
        yield SeededDatabase(url, sample)


@pytest.fixture
def app_conn(seeded: SeededDatabase) -> Iterator[psycopg.Connection]:
    """A connection as the application, confined to the sample organization by RLS."""
    with psycopg.connect(seeded.url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute(
            "SELECT set_config('app.current_organization_id', %s, false)",
            (seeded.sample.organization_id,),
        )
        conn.execute("SET ROLE app_user")
        yield conn


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def _relations(conn: psycopg.Connection, table: str) -> set[str]:
    """The table and, for a partitioned one, its partitions (plans name the partitions)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class AS c WHERE c.oid IN (SELECT oid FROM pg_class WHERE oid = %s::regclass"
        " UNION ALL SELECT relid FROM pg_partition_tree(%s::regclass))",
        (table, table),
    ).fetchall()
    return {name for (name,) in rows}


def _index_key_columns(conn: psycopg.Connection, index_name: str, table: str) -> list[str] | None:
    """Key columns of the index of that name on ``table`` (or a partition of it), else None."""
    row = conn.execute(
        """
        SELECT array_agg(coalesce(a.attname, '(expression)') ORDER BY k.position)
          FROM pg_index AS i
          JOIN pg_class AS ic ON ic.oid = i.indexrelid
          CROSS JOIN LATERAL unnest((i.indkey::int2[])[0:i.indnkeyatts - 1])
                     WITH ORDINALITY AS k(attnum, position)
          LEFT JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE ic.relname = %s
           AND i.indrelid IN (SELECT oid FROM pg_class WHERE oid = %s::regclass
                              UNION ALL SELECT relid FROM pg_partition_tree(%s::regclass))
         GROUP BY i.indexrelid
         LIMIT 1
        """,
        (index_name, table, table),
    ).fetchone()
    return list(row[0]) if row else None


def _check_plan(
    conn: psycopg.Connection, plan: dict[str, Any], table: str, leading_columns: list[str]
) -> None:
    nodes = list(_plan_nodes(plan))
    relations = _relations(conn, table)
    described = "\n".join(
        f"{n['Node Type']} {n.get('Relation Name', '')} {n.get('Index Name', '')}".rstrip()
        for n in nodes
    )
    sequential = [
        n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in relations
    ]
    assert not sequential, f"sequential scan of {table}:\n{described}"
    used = [_index_key_columns(conn, n["Index Name"], table) for n in nodes if "Index Name" in n]
    assert any(
        cols is not None and cols[: len(leading_columns)] == leading_columns for cols in used
    ), f"no index of {table} on ({', '.join(leading_columns)}, ...) in the plan:\n{described}"


def assert_uses_index(
    conn: psycopg.Connection,
    query: str,
    params: tuple[Any, ...],
    table: str,
    leading_columns: list[str],
) -> None:
    """The plan reads ``table`` through an index whose key starts with ``leading_columns``,
    and never scans it sequentially."""
    (document,) = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    _check_plan(conn, document[0]["Plan"], table, leading_columns)


def assert_plan_uses_index(
    seeded: SeededDatabase, plan: dict[str, Any], table: str, leading_columns: list[str]
) -> None:
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _check_plan(conn, plan, table, leading_columns)


def function_statement_plan(
    seeded: SeededDatabase, call: str, table: str
) -> tuple[list[Any], dict[str, Any]]:
    """Rows of ``call``, run as the application, and the plan of the statement inside the
    function that reads ``table``.

    A security definer function is never inlined, so EXPLAIN of the call shows only a Function
    Scan; auto_explain reports the plans of the statements run inside it (as notices here).
    """
    reports: list[str] = []
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        conn.add_notice_handler(lambda notice: reports.append(notice.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("log_min_duration", "0"),
            ("log_nested_statements", "on"),
            ("log_format", "json"),
            ("log_level", "notice"),
        ):
            conn.execute(f"SET auto_explain.{setting} = {value}")
        conn.execute(
            "SELECT set_config('app.current_organization_id', %s, false)",
            (seeded.sample.organization_id,),
        )
        conn.execute("SET ROLE app_user")
        rows = conn.execute(call).fetchall()
    plans = [json.loads(text[text.index("{") :]) for text in reports if "{" in text]
    inner = [
        p
        for p in plans
        if table in p.get("Query Text", "") and p.get("Query Text", "").strip() != call
    ]
    assert inner, f"auto_explain reported no plan of a statement reading {table}: {reports}"
    return rows, inner[0]["Plan"]


def test_user_lookup_by_email_within_organization(app_conn, seeded):
    # E-mail addresses are stored lower-cased (text equality is leakproof, so under RLS it can
    # still be an index condition); the application folds what the person typed.
    lookup = (
        "SELECT id, display_name, password_hash FROM user_management.users"
        " WHERE organization_id = %s AND email = lower(%s)"
    )
    params = (seeded.sample.organization_id, seeded.sample.email.upper())
    assert_uses_index(
        app_conn, lookup, params, "user_management.users", ["organization_id", "email"]
    )
    assert len(app_conn.execute(lookup, params).fetchall()) == 1


def test_course_catalogue_filtered_by_status_and_category(app_conn, seeded):
    assert_uses_index(
        app_conn,
        "SELECT id, title, level FROM course_management.courses"
        " WHERE organization_id = %s AND status = 'published' AND category_id = %s ORDER BY title",
        (seeded.sample.organization_id, seeded.sample.category_id),
        "course_management.courses",
        ["organization_id", "category_id"],
    )


def test_course_catalogue_full_text_search(seeded):
    found, plan = function_statement_plan(
        seeded,
        "SELECT course_id, title FROM course_management.search_courses('pipelines')",
        "course_management.courses",
    )
    assert found, "the sample organization has courses about data pipelines"
    assert_plan_uses_index(seeded, plan, "course_management.courses", ["search"])


def test_progress_of_a_learner_in_a_course(app_conn, seeded):
    assert_uses_index(
        app_conn,
        "SELECT lesson_id, status, completed_at FROM course_management.lesson_progress"
        " WHERE user_id = %s AND course_id = %s",
        (seeded.sample.progress_user_id, seeded.sample.progress_course_id),
        "course_management.lesson_progress",
        ["user_id", "course_id"],
    )


def test_leaderboard_ranking_by_balance(app_conn, seeded):
    assert_uses_index(
        app_conn,
        "SELECT user_id, total_points, rank() OVER (ORDER BY total_points DESC)"
        " FROM gamification.user_point_balances WHERE organization_id = %s"
        " ORDER BY total_points DESC LIMIT 10",
        (seeded.sample.organization_id,),
        "gamification.user_point_balances",
        ["organization_id", "total_points"],
    )


def test_weekly_leaderboard_from_the_ledger(app_conn, seeded):
    assert_uses_index(
        app_conn,
        "SELECT user_id, sum(points) AS points, rank() OVER (ORDER BY sum(points) DESC)"
        " FROM gamification.point_transactions"
        " WHERE organization_id = %s AND occurred_at >= gamification.period_start('weekly', now())"
        " GROUP BY user_id ORDER BY points DESC LIMIT 10",
        (seeded.sample.organization_id,),
        "gamification.point_transactions",
        ["organization_id", "occurred_at"],
    )


def test_unread_messages_of_a_member(app_conn, seeded):
    query = "SELECT conversation_id, unread_count FROM social.unread_message_counts(%s)"
    params = (seeded.sample.member_with_messages,)
    # The SQL function is inlined into the caller's plan, so both of its indexes show up there.
    assert_uses_index(app_conn, query, params, "social.conversation_participants", ["user_id"])
    assert_uses_index(app_conn, query, params, "social.messages", ["conversation_id", "created_at"])
    assert app_conn.execute(query, params).fetchall(), (
        "the sample member should have unread messages"
    )


def test_forum_search(seeded):
    found, plan = function_statement_plan(
        seeded, "SELECT post_id, headline FROM social.search_posts('vacuum')", "social.posts"
    )
    assert len(found) == 1
    assert "<b>vacuuming</b>" in found[0][1]
    assert_plan_uses_index(seeded, plan, "social.posts", ["search"])


def test_recent_learning_events_of_a_learner(app_conn, seeded):
    assert_uses_index(
        app_conn,
        "SELECT event_type, occurred_at FROM analytics.learning_events"
        " WHERE user_id = %s AND occurred_at >= timestamptz '2026-11-01 00:00:00+00'"
        " AND occurred_at < timestamptz '2026-12-01 00:00:00+00' ORDER BY occurred_at DESC",
        (seeded.sample.progress_user_id,),
        "analytics.learning_events",
        ["user_id", "occurred_at"],
    )


def test_monitoring_views_for_operators(seeded):
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        conn.execute("SET ROLE app_reporting")
        sizes = dict(
            conn.execute(
                "SELECT schema_name || '.' || table_name, total_bytes FROM monitoring.table_sizes"
            ).fetchall()
        )
        partitions = conn.execute(
            "SELECT sum(total_bytes) FROM monitoring.table_sizes"
            " WHERE schema_name = 'analytics' AND table_name LIKE 'learning\\_events\\_%' AND is_partition"
        ).fetchone()[0]
        # A partitioned table has no storage of its own: its row adds up its partitions.
        assert sizes["analytics.learning_events"] == partitions > 0
        assert sizes["social.messages"] > sizes["social.follows"]

        unused = conn.execute(
            "SELECT index_name, is_unique, is_primary FROM monitoring.index_usage WHERE is_unused"
        ).fetchall()
        assert all(not unique and not primary for _, unique, primary in unused)
        dead = conn.execute(
            "SELECT count(*) FROM monitoring.dead_tuples WHERE schema_name = 'social'"
        ).fetchone()[0]
        assert dead >= 10  # every table of the schema, whether or not it has dead tuples
        (hit_percent,) = conn.execute(
            "SELECT hit_percent FROM monitoring.database_cache_hit_ratio"
            " WHERE database_name = current_database()"
        ).fetchone()
        assert 0 <= hit_percent <= 100

        conn.execute("RESET ROLE")
        conn.execute("SET ROLE app_user")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM monitoring.table_sizes")
