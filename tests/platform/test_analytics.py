"""The analytics schema on the platform database built from generated/: monthly partitions of
learning_events (and the function creating them), the daily roll-up and the materialized
dashboards behind their tenant-filtered views."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from psycopg import errors


def _create_organization(
    conn: psycopg.Connection, slug: str, user_count: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """An organization and its users, written as the superuser (no RLS)."""
    (organization_id,) = conn.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES (%s, %s) RETURNING id",
        (slug, slug.title()),
    ).fetchone()
    users = [
        conn.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name)"
            " VALUES (%s, %s, %s) RETURNING id",
            (organization_id, f"user{i}@{slug}.example", f"User {i}"),
        ).fetchone()[0]
        for i in range(user_count)
    ]
    return organization_id, users


def _act_as_application(conn: psycopg.Connection, organization_id: uuid.UUID) -> None:
    conn.execute(
        "SELECT set_config('app.current_organization_id', %s, false)", (str(organization_id),)
    )
    conn.execute("SET ROLE app_user")


def _record_event(
    conn: psycopg.Connection,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    event_type: str,
    occurred_at: datetime,
    course_id: uuid.UUID | None = None,
) -> int:
    (event_id,) = conn.execute(
        "INSERT INTO analytics.learning_events (organization_id, user_id, course_id, event_type, occurred_at)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (organization_id, user_id, course_id, event_type, occurred_at),
    ).fetchone()
    return event_id


def _partition_of(conn: psycopg.Connection, event_id: int) -> str:
    (partition,) = conn.execute(
        "SELECT tableoid::regclass::text FROM analytics.learning_events WHERE id = %s", (event_id,)
    ).fetchone()
    return partition


def _month_partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'analytics.learning_events'::regclass AND c.relname <> 'learning_events_default'"
    ).fetchall()
    return {name for (name,) in rows}


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(platform_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
def organization(conn: psycopg.Connection) -> tuple[uuid.UUID, list[uuid.UUID]]:
    return _create_organization(conn, "initech", 3)


def test_events_are_routed_to_their_month_or_to_the_default_partition(conn, organization):
    organization_id, users = organization
    _act_as_application(conn, organization_id)
    declared_month = _record_event(
        conn,
        organization_id,
        users[0],
        "lesson_completed",
        datetime(2026, 10, 15, 12, 0, tzinfo=UTC),
    )
    # The first instant of a month belongs to that month, whatever the session's time zone.
    conn.execute("SET TIME ZONE 'America/Los_Angeles'")
    month_start = _record_event(
        conn, organization_id, users[0], "lesson_viewed", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    )
    far_future = _record_event(
        conn, organization_id, users[0], "lesson_viewed", datetime(2040, 6, 15, 8, 30, tzinfo=UTC)
    )

    assert _partition_of(conn, declared_month) == "analytics.learning_events_2026_10"
    assert _partition_of(conn, month_start) == "analytics.learning_events_2026_12"
    assert _partition_of(conn, far_future) == "analytics.learning_events_default"


def test_create_learning_event_partitions_adds_missing_months(conn, organization):
    organization_id, users = organization
    (today,) = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()
    current_month = today.replace(day=1)
    existing = _month_partitions(conn)

    def partition_name(month: date) -> str:
        return f"learning_events_{month:%Y_%m}"

    # The first month from now on that has no partition: the function must create it.
    months_ahead = next(
        k for k in range(1, 121) if partition_name(_add_months(current_month, k)) not in existing
    )
    target_month = _add_months(current_month, months_ahead)
    expected_new = {
        partition_name(_add_months(current_month, k)) for k in range(months_ahead + 1)
    } - existing

    _act_as_application(conn, organization_id)
    early = _record_event(
        conn,
        organization_id,
        users[0],
        "lesson_completed",
        datetime.combine(target_month + timedelta(days=3), time(10), tzinfo=UTC),
    )
    assert _partition_of(conn, early) == "analytics.learning_events_default"

    # The application may run it (security definer), although it has no DDL rights itself.
    (created,) = conn.execute(
        "SELECT analytics.create_learning_event_partitions(%s)", (months_ahead,)
    ).fetchone()
    assert created == len(expected_new)
    assert _month_partitions(conn) == existing | expected_new

    target_partition = f"analytics.{partition_name(target_month)}"
    # The event recorded before its month had a partition was moved there, keeping its id.
    assert _partition_of(conn, early) == target_partition
    later = _record_event(
        conn,
        organization_id,
        users[1],
        "quiz_passed",
        datetime.combine(target_month + timedelta(days=20), time(18), tzinfo=UTC),
    )
    assert _partition_of(conn, later) == target_partition
    assert later > early

    assert conn.execute(
        "SELECT analytics.create_learning_event_partitions(%s)", (months_ahead,)
    ).fetchone() == (0,)

    conn.execute("RESET ROLE")
    conn.execute("SET TIME ZONE 'UTC'")
    bounds = conn.execute(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class AS c WHERE c.oid = %s::regclass",
        (target_partition,),
    ).fetchone()[0]
    assert (
        bounds
        == conn.execute(
            "SELECT format('FOR VALUES FROM (%%L) TO (%%L)', %s::timestamptz, %s::timestamptz)",
            (
                datetime.combine(target_month, time(0), tzinfo=UTC),
                datetime.combine(_add_months(target_month, 1), time(0), tzinfo=UTC),
            ),
        ).fetchone()[0]
    )


def test_create_learning_event_partitions_rejects_unreasonable_horizons(conn):
    for months_ahead in (-1, 121, None):
        with pytest.raises(errors.InvalidParameterValue):
            conn.execute(
                "SELECT analytics.create_learning_event_partitions(%s::integer)", (months_ahead,)
            )


def test_daily_activity_and_dashboards_refresh(conn, organization):
    organization_id, (ann, ben, _) = organization
    other_id, (stranger, *_) = _create_organization(conn, "umbrella", 1)
    (course_id,) = conn.execute(
        "INSERT INTO course_management.courses (organization_id, slug, title)"
        " VALUES (%s, 'intro-sql', 'Introduction to SQL') RETURNING id",
        (organization_id,),
    ).fetchone()
    conn.execute(
        "INSERT INTO course_management.enrollments (organization_id, user_id, course_id) VALUES (%s, %s, %s)",
        (organization_id, ann, course_id),
    )
    (today,) = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()
    midnight = datetime.combine(today, time(0), tzinfo=UTC)
    _record_event(conn, other_id, stranger, "lesson_completed", midnight + timedelta(seconds=5))

    _act_as_application(conn, organization_id)
    for seconds, user, event_type in (
        (1, ann, "lesson_completed"),
        (2, ann, "lesson_completed"),
        (3, ann, "forum_post_created"),
        (4, ben, "quiz_passed"),
    ):
        _record_event(
            conn,
            organization_id,
            user,
            event_type,
            midnight + timedelta(seconds=seconds),
            course_id=course_id,
        )

    # As the application, the roll-up covers the current organization only.
    assert conn.execute(
        "SELECT analytics.refresh_daily_activity(%s, %s)", (today, today)
    ).fetchone() == (2,)
    assert conn.execute("SELECT analytics.refresh_daily_activity(%s)", (today,)).fetchone() == (2,)
    rows = conn.execute(
        "SELECT user_id, event_count, lessons_completed, posts_created, quizzes_passed, courses_touched"
        " FROM analytics.daily_activity WHERE activity_date = %s ORDER BY event_count DESC",
        (today,),
    ).fetchall()
    assert rows == [(ann, 3, 2, 1, 0, 1), (ben, 1, 0, 0, 1, 1)]
    engagement = conn.execute(
        "SELECT active_days_30d, events_30d FROM analytics.user_engagement WHERE user_id = %s",
        (ann,),
    ).fetchone()
    assert engagement == (1, 3)

    # The materialized views hold every organization, so the application reads them only through
    # the tenant-filtered views, and sees nothing new until the dashboards are refreshed.
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM analytics.organization_activity_daily")
    activity = (
        "SELECT active_learners, events, lessons_completed, posts_created, quizzes_passed"
        " FROM analytics.organization_activity WHERE activity_date = %s"
    )
    assert conn.execute(activity, (today,)).fetchall() == []
    assert conn.execute("SELECT count(*) FROM analytics.course_dashboard").fetchone() == (0,)

    conn.execute("SELECT analytics.refresh_dashboards()")
    assert conn.execute(activity, (today,)).fetchall() == [(2, 4, 2, 1, 1)]
    assert conn.execute(
        "SELECT course_id, enrolled_learners, completed_learners FROM analytics.course_dashboard"
    ).fetchall() == [(course_id, 1, 0)]

    # A role that bypasses RLS (here the superuser) rolls up every organization at once; after
    # the next refresh the other organization has its dashboard row, which this tenant never sees.
    conn.execute("RESET ROLE")
    assert conn.execute(
        "SELECT analytics.refresh_daily_activity(%s, %s)", (today, today)
    ).fetchone() == (3,)
    conn.execute("SELECT analytics.refresh_dashboards()")
    assert conn.execute(
        "SELECT organization_id FROM analytics.organization_activity_daily WHERE activity_date = %s"
        " ORDER BY organization_id",
        (today,),
    ).fetchall() == sorted([(organization_id,), (other_id,)])
    conn.execute("SET ROLE app_user")
    assert conn.execute(
        "SELECT count(*) FROM analytics.organization_activity WHERE activity_date = %s", (today,)
    ).fetchone() == (1,)


def test_dashboards_can_be_refreshed_concurrently(conn):
    # REFRESH ... CONCURRENTLY needs a unique index on plain columns covering every row.
    rows = conn.execute(
        "SELECT c.relname FROM pg_class AS c"
        " WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind = 'm'"
        " AND NOT EXISTS (SELECT 1 FROM pg_index AS i WHERE i.indrelid = c.oid AND i.indisunique"
        "                 AND i.indpred IS NULL AND i.indexprs IS NULL)"
    ).fetchall()
    assert rows == []
    assert (
        conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind = 'm'"
        ).fetchone()[0]
        >= 2
    )
