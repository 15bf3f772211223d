"""Gamification on the platform as Flyway builds it: points, levels, badges, streaks, leaderboards.

Everything under test is driven the way the application drives it: plain INSERT and UPDATE
statements run as ``app_user`` (no BYPASSRLS) with the tenant set, on the tables of other
domains (lesson progress, quiz attempts, forum posts). The rewards then come from the
triggers alone. Fixture data (organizations, users, courses) is created beforehand as the
connecting superuser, as an administrator's tooling would.

Expected amounts are read from the seeded rule, level and badge catalogues rather than
written down here, so the tests follow the catalogue if it is retuned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Course:
    id: uuid.UUID
    lesson_ids: list[uuid.UUID]


class Platform:
    """A superuser connection that can step into the application's role for one tenant."""

    def __init__(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        self.db = connection
        self._slugs = 0

    # -- sessions ----------------------------------------------------------------------------

    def as_admin(self) -> None:
        self.db.execute("RESET ROLE")

    def as_app(self, organization_id: uuid.UUID, user_id: uuid.UUID | None = None) -> None:
        """Act as the application serving ``user_id`` of ``organization_id``."""
        self.db.execute("SET ROLE app_user")
        self.db.execute(
            "SELECT set_config('app.current_organization_id', %s, false)", [str(organization_id)]
        )
        self.db.execute("SELECT set_config('app.current_user_id', %s, false)", [str(user_id or "")])

    def one(self, sql: str, params: Any = None) -> dict[str, Any]:
        row = self.db.execute(sql, params).fetchone()
        assert row is not None, f"no row from: {sql}"
        return row

    def all(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return self.db.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = None) -> Any:
        return next(iter(self.one(sql, params).values()))

    # -- fixture data (as the superuser) -----------------------------------------------------

    def _slug(self, prefix: str) -> str:
        self._slugs += 1
        return f"{prefix}-{self._slugs}"

    def create_organization(self) -> uuid.UUID:
        self.as_admin()
        slug = self._slug("org")
        return self.scalar(
            "INSERT INTO user_management.organizations (slug, name) VALUES (%s, %s) RETURNING id",
            [slug, f"Organization {slug}"],
        )

    def create_user(self, organization_id: uuid.UUID, name: str) -> uuid.UUID:
        self.as_admin()
        return self.scalar(
            "INSERT INTO user_management.users (organization_id, email, display_name)"
            " VALUES (%s, %s, %s) RETURNING id",
            [organization_id, f"{name.lower()}.{self._slug('u')}@example.test", name],
        )

    def create_course(self, organization_id: uuid.UUID, lessons: int) -> Course:
        """A course with one module of ``lessons`` required lessons."""
        self.as_admin()
        slug = self._slug("course")
        course_id = self.scalar(
            "INSERT INTO course_management.courses (organization_id, slug, title)"
            " VALUES (%s, %s, %s) RETURNING id",
            [organization_id, slug, f"Course {slug}"],
        )
        module_id = self.scalar(
            "INSERT INTO course_management.modules (organization_id, course_id, title, position)"
            " VALUES (%s, %s, 'Module 1', 1) RETURNING id",
            [organization_id, course_id],
        )
        lesson_ids = [
            self.scalar(
                "INSERT INTO course_management.lessons (organization_id, course_id, module_id, title, position)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                [organization_id, course_id, module_id, f"Lesson {n}", n],
            )
            for n in range(1, lessons + 1)
        ]
        return Course(course_id, lesson_ids)

    # -- application actions (as app_user, tenant already set) -------------------------------

    def complete_lesson(
        self, organization_id: uuid.UUID, user_id: uuid.UUID, course: Course, lesson_id: uuid.UUID
    ) -> None:
        """The learner opens the lesson, then finishes it: an INSERT, then an UPDATE of status."""
        self.db.execute(
            "INSERT INTO course_management.lesson_progress (organization_id, user_id, course_id, lesson_id, status)"
            " VALUES (%s, %s, %s, %s, 'in_progress')",
            [organization_id, user_id, course.id, lesson_id],
        )
        self.db.execute(
            "UPDATE course_management.lesson_progress SET status = 'completed'"
            " WHERE user_id = %s AND lesson_id = %s",
            [user_id, lesson_id],
        )

    # -- catalogue and derived state ---------------------------------------------------------

    def effective_points(self, event_type: str) -> int:
        """The points the current tenant's effective rule pays for ``event_type``."""
        row = self.one(
            "SELECT points, is_active FROM gamification.effective_point_rules"
            " WHERE organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid"
            "   AND event_type = %s",
            [event_type],
        )
        assert row["is_active"], (
            f"the rule for {event_type} is inactive; the test needs an active one"
        )
        return int(row["points"])

    def level_for(self, points: int) -> int:
        levels = self.all(
            "SELECT level_number, min_points FROM gamification.levels ORDER BY min_points"
        )
        reached = [row["level_number"] for row in levels if row["min_points"] <= points]
        return int(reached[-1])

    def balance(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        return self.db.execute(
            "SELECT total_points, current_level FROM gamification.user_point_balances WHERE user_id = %s",
            [user_id],
        ).fetchone()

    def ledger(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.all(
            "SELECT event_type, points, point_rule_id, course_id, source_type, source_id"
            " FROM gamification.point_transactions WHERE user_id = %s ORDER BY id",
            [user_id],
        )

    def badge_codes(self, user_id: uuid.UUID) -> set[str]:
        rows = self.all(
            "SELECT b.code FROM gamification.user_badges AS ub"
            " JOIN gamification.badges AS b ON b.id = ub.badge_id WHERE ub.user_id = %s",
            [user_id],
        )
        return {row["code"] for row in rows}

    def badges_earned_by(self, points: int, event_counts: dict[str, int], streak: int) -> set[str]:
        """The catalogue badges a user with these figures qualifies for, evaluated here in Python."""
        level = self.level_for(points)
        earned = set()
        for badge in self.all("SELECT * FROM gamification.badges WHERE is_active"):
            value = {
                "points_total": points,
                "event_count": event_counts.get(badge["criteria_event_type"] or "", 0),
                "streak_days": streak,
                "level_reached": level,
            }[badge["criteria_type"]]
            if value >= badge["threshold"]:
                earned.add(badge["code"])
        return earned

    def streak(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        return self.db.execute(
            "SELECT current_length, longest_length, started_on, last_activity_date"
            " FROM gamification.streaks WHERE user_id = %s",
            [user_id],
        ).fetchone()

    def utc_today(self) -> dt.date:
        return self.scalar("SELECT (now() AT TIME ZONE 'UTC')::date AS today")


@pytest.fixture
def platform(platform_db: str) -> Iterator[Platform]:
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as connection:
        yield Platform(connection)


@pytest.fixture
def tenant(platform: Platform) -> uuid.UUID:
    return platform.create_organization()


# -- lessons --------------------------------------------------------------------------------


def test_completing_a_lesson_awards_points_level_badge_and_streak(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=3)
    platform.as_app(tenant, ann)
    lesson_points = platform.effective_points("lesson_completed")

    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])

    assert platform.ledger(ann) == [
        {
            "event_type": "lesson_completed",
            "points": lesson_points,
            "point_rule_id": None,
            "course_id": course.id,
            "source_type": "lesson",
            "source_id": course.lesson_ids[0],
        }
    ]
    assert platform.balance(ann) == {
        "total_points": lesson_points,
        "current_level": platform.level_for(lesson_points),
    }
    expected_badges = platform.badges_earned_by(lesson_points, {"lesson_completed": 1}, streak=1)
    assert expected_badges, "the seeded catalogue should reward a first completed lesson"
    assert platform.badge_codes(ann) == expected_badges
    today = platform.utc_today()
    assert platform.streak(ann) == {
        "current_length": 1,
        "longest_length": 1,
        "started_on": today,
        "last_activity_date": today,
    }


def test_a_lesson_completed_again_is_not_paid_twice(platform: Platform, tenant: uuid.UUID) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=2)
    platform.as_app(tenant, ann)
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])

    # Reopened (for a retake), then completed again.
    platform.db.execute(
        "UPDATE course_management.lesson_progress SET status = 'in_progress', completed_at = NULL"
        " WHERE user_id = %s AND lesson_id = %s",
        [ann, course.lesson_ids[0]],
    )
    platform.db.execute(
        "UPDATE course_management.lesson_progress SET status = 'completed' WHERE user_id = %s AND lesson_id = %s",
        [ann, course.lesson_ids[0]],
    )

    assert [row["event_type"] for row in platform.ledger(ann)] == ["lesson_completed"]
    assert (
        platform.scalar(
            "SELECT event_count FROM gamification.user_activity_counts WHERE user_id = %s AND event_type = 'lesson_completed'",
            [ann],
        )
        == 1
    )


def test_completing_every_lesson_completes_the_course(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=2)
    platform.as_app(tenant, ann)
    lesson_points = platform.effective_points("lesson_completed")
    course_points = platform.effective_points("course_completed")

    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])
    assert "course_completed" not in [row["event_type"] for row in platform.ledger(ann)]
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[1])

    events = [(row["event_type"], row["source_id"]) for row in platform.ledger(ann)]
    assert events.count(("course_completed", course.id)) == 1
    total = 2 * lesson_points + course_points
    assert platform.balance(ann) == {
        "total_points": total,
        "current_level": platform.level_for(total),
    }
    counts = {"lesson_completed": 2, "course_completed": 1}
    assert platform.badge_codes(ann) == platform.badges_earned_by(total, counts, streak=1)


def test_a_tenant_rule_overrides_the_default_for_that_tenant_only(
    platform: Platform, tenant: uuid.UUID
) -> None:
    other_tenant = platform.create_organization()
    ann = platform.create_user(tenant, "Ann")
    olga = platform.create_user(other_tenant, "Olga")
    course = platform.create_course(tenant, lessons=3)
    other_course = platform.create_course(other_tenant, lessons=3)

    platform.as_app(other_tenant, olga)
    default_points = platform.effective_points("lesson_completed")

    platform.as_app(tenant, ann)
    # Enough for the second level in one lesson, whatever the ladder says.
    second_level_points = platform.scalar(
        "SELECT min_points FROM gamification.levels ORDER BY min_points OFFSET 1 LIMIT 1"
    )
    rule_id = platform.scalar(
        "INSERT INTO gamification.point_rules (organization_id, event_type, points)"
        " VALUES (%s, 'lesson_completed', %s) RETURNING id",
        [tenant, second_level_points],
    )
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])

    [award] = platform.ledger(ann)
    assert (award["points"], award["point_rule_id"]) == (second_level_points, rule_id)
    assert platform.balance(ann) == {
        "total_points": second_level_points,
        "current_level": platform.level_for(second_level_points),
    }
    assert platform.level_for(second_level_points) > platform.level_for(0)

    platform.as_app(other_tenant, olga)
    platform.complete_lesson(other_tenant, olga, other_course, other_course.lesson_ids[0])
    assert [row["points"] for row in platform.ledger(olga)] == [default_points]

    # Switching the rule off switches the award off for this tenant.
    platform.as_app(tenant, ann)
    platform.db.execute(
        "UPDATE gamification.point_rules SET is_active = false WHERE id = %s", [rule_id]
    )
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[1])
    assert len(platform.ledger(ann)) == 1


# -- streaks --------------------------------------------------------------------------------


def _record_activity(
    platform: Platform, tenant: uuid.UUID, user_id: uuid.UUID, days_ago: int
) -> None:
    """Backfill a rewarded learning event dated ``days_ago`` UTC days back (noon, away from midnight)."""
    platform.db.execute(
        "INSERT INTO gamification.point_transactions (organization_id, user_id, event_type, points, occurred_at)"
        " VALUES (%s, %s, 'lesson_completed', 5,"
        "         ((now() AT TIME ZONE 'UTC')::date - %s::integer + time '12:00') AT TIME ZONE 'UTC')",
        [tenant, user_id, days_ago],
    )


def test_streak_grows_on_consecutive_days_and_restarts_after_a_gap(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    bob = platform.create_user(tenant, "Bob")
    course = platform.create_course(tenant, lessons=3)
    today = platform.utc_today()
    platform.as_app(tenant, ann)

    _record_activity(platform, tenant, ann, days_ago=2)
    _record_activity(platform, tenant, ann, days_ago=1)
    assert platform.streak(ann) == {
        "current_length": 2,
        "longest_length": 2,
        "started_on": today - dt.timedelta(days=2),
        "last_activity_date": today - dt.timedelta(days=1),
    }
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])
    assert platform.streak(ann) == {
        "current_length": 3,
        "longest_length": 3,
        "started_on": today - dt.timedelta(days=2),
        "last_activity_date": today,
    }
    # A second activity on the same day changes nothing.
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[1])
    assert platform.streak(ann)["current_length"] == 3
    assert (
        platform.scalar(
            "SELECT current_length FROM gamification.current_streaks WHERE user_id = %s", [ann]
        )
        == 3
    )

    platform.as_app(tenant, bob)
    _record_activity(platform, tenant, bob, days_ago=6)
    _record_activity(platform, tenant, bob, days_ago=5)
    # Broken since then: the view says so before any new activity.
    assert (
        platform.scalar(
            "SELECT current_length FROM gamification.current_streaks WHERE user_id = %s", [bob]
        )
        == 0
    )
    platform.complete_lesson(tenant, bob, course, course.lesson_ids[0])
    assert platform.streak(bob) == {
        "current_length": 1,
        "longest_length": 2,
        "started_on": today,
        "last_activity_date": today,
    }


def test_a_long_enough_streak_earns_the_streak_badge(platform: Platform, tenant: uuid.UUID) -> None:
    ann = platform.create_user(tenant, "Ann")
    platform.as_app(tenant, ann)
    days = platform.scalar(
        "SELECT min(threshold) FROM gamification.badges WHERE criteria_type = 'streak_days' AND is_active"
    )
    for days_ago in range(days - 1, -1, -1):
        _record_activity(platform, tenant, ann, days_ago)

    assert platform.streak(ann)["current_length"] == days
    streak_badges = {
        row["code"]
        for row in platform.all(
            "SELECT code FROM gamification.badges WHERE criteria_type = 'streak_days' AND threshold <= %s",
            [days],
        )
    }
    assert streak_badges and streak_badges <= platform.badge_codes(ann)


# -- quizzes and forum posts ----------------------------------------------------------------


def _create_quiz(platform: Platform, tenant: uuid.UUID, course: Course) -> uuid.UUID:
    platform.as_admin()
    return platform.scalar(
        "INSERT INTO assessment.quizzes (organization_id, course_id, lesson_id, title, status, published_at, pass_percent)"
        " VALUES (%s, %s, %s, 'Check your understanding', 'published', now(), 50) RETURNING id",
        [tenant, course.id, course.lesson_ids[0]],
    )


def test_passing_a_quiz_awards_points_once_per_quiz(platform: Platform, tenant: uuid.UUID) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=1)
    quiz = _create_quiz(platform, tenant, course)
    second_quiz = _create_quiz(platform, tenant, course)
    platform.as_app(tenant, ann)
    quiz_points = platform.effective_points("quiz_passed")

    # A failed attempt earns nothing.
    platform.db.execute(
        "INSERT INTO assessment.quiz_attempts (organization_id, quiz_id, user_id, attempt_number, submitted_at, score, max_score, passed)"
        " VALUES (%s, %s, %s, 1, now(), 2, 10, false)",
        [tenant, quiz, ann],
    )
    assert platform.ledger(ann) == []

    # The second attempt is started, then graded as passed by an UPDATE.
    attempt = platform.scalar(
        "INSERT INTO assessment.quiz_attempts (organization_id, quiz_id, user_id, attempt_number)"
        " VALUES (%s, %s, %s, 2) RETURNING id",
        [tenant, quiz, ann],
    )
    platform.db.execute(
        "UPDATE assessment.quiz_attempts SET submitted_at = now(), score = 8, max_score = 10, passed = true WHERE id = %s",
        [attempt],
    )
    assert platform.ledger(ann) == [
        {
            "event_type": "quiz_passed",
            "points": quiz_points,
            "point_rule_id": None,
            "course_id": course.id,
            "source_type": "quiz",
            "source_id": quiz,
        }
    ]

    # Passing the same quiz again pays nothing; passing another quiz (graded on insert) does.
    platform.db.execute(
        "INSERT INTO assessment.quiz_attempts (organization_id, quiz_id, user_id, attempt_number, submitted_at, score, max_score, passed)"
        " VALUES (%s, %s, %s, 3, now(), 10, 10, true), (%s, %s, %s, 1, now(), 9, 10, true)",
        [tenant, quiz, ann, tenant, second_quiz, ann],
    )
    assert [row["source_id"] for row in platform.ledger(ann)] == [quiz, second_quiz]
    assert platform.balance(ann)["total_points"] == 2 * quiz_points
    assert platform.badge_codes(ann) == platform.badges_earned_by(
        2 * quiz_points, {"quiz_passed": 2}, streak=1
    )


def _create_thread(platform: Platform, tenant: uuid.UUID, course_id: uuid.UUID | None) -> uuid.UUID:
    platform.as_admin()
    forum = platform.scalar(
        "INSERT INTO social.forums (organization_id, course_id, slug, title) VALUES (%s, %s, %s, 'Questions') RETURNING id",
        [tenant, course_id, platform._slug("forum")],
    )
    return platform.scalar(
        "INSERT INTO social.threads (organization_id, forum_id, title) VALUES (%s, %s, 'Week 1') RETURNING id",
        [tenant, forum],
    )


def test_posting_in_a_forum_awards_points_up_to_the_daily_cap(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=1)
    course_thread = _create_thread(platform, tenant, course.id)
    general_thread = _create_thread(platform, tenant, None)
    platform.as_app(tenant, ann)
    post_points = platform.effective_points("forum_post_created")

    first_post = platform.scalar(
        "INSERT INTO social.posts (organization_id, thread_id, author_id, body) VALUES (%s, %s, %s, 'Hello') RETURNING id",
        [tenant, course_thread, ann],
    )
    assert platform.ledger(ann) == [
        {
            "event_type": "forum_post_created",
            "points": post_points,
            "point_rule_id": None,
            "course_id": course.id,
            "source_type": "forum_post",
            "source_id": first_post,
        }
    ]

    cap = platform.scalar(
        "SELECT max_awards_per_day FROM gamification.effective_point_rules"
        " WHERE organization_id = %s AND event_type = 'forum_post_created'",
        [tenant],
    )
    if cap is None:
        pytest.skip("the forum_post_created rule has no daily cap to test")
    for n in range(cap + 2):
        platform.db.execute(
            "INSERT INTO social.posts (organization_id, thread_id, author_id, body) VALUES (%s, %s, %s, %s)",
            [tenant, general_thread, ann, f"Post {n}"],
        )
    awards = platform.ledger(ann)
    assert len(awards) == cap
    # Posts in an organization-wide forum count for no course.
    assert [row["course_id"] for row in awards[1:]] == [None] * (cap - 1)
    assert platform.balance(ann)["total_points"] == cap * post_points


# -- leaderboards ---------------------------------------------------------------------------


def test_leaderboards_rank_per_organization_and_course_with_ties(
    platform: Platform, tenant: uuid.UUID
) -> None:
    other_tenant = platform.create_organization()
    ann = platform.create_user(tenant, "Ann")
    bob = platform.create_user(tenant, "Bob")
    cat = platform.create_user(tenant, "Cat")
    olga = platform.create_user(other_tenant, "Olga")
    algebra = platform.create_course(tenant, lessons=5)
    biology = platform.create_course(tenant, lessons=5)
    other_course = platform.create_course(other_tenant, lessons=5)

    # Olga, in another organization, outscores everyone but must appear on no board of this tenant.
    platform.as_app(other_tenant, olga)
    for lesson in other_course.lesson_ids[:4]:
        platform.complete_lesson(other_tenant, olga, other_course, lesson)

    platform.as_app(tenant)
    points = platform.effective_points("lesson_completed")
    for user, course, lessons in [
        (ann, algebra, algebra.lesson_ids[:2]),
        (bob, algebra, algebra.lesson_ids[:1]),
        (bob, biology, biology.lesson_ids[:1]),
        (cat, biology, biology.lesson_ids[:1]),
    ]:
        for lesson in lessons:
            platform.complete_lesson(tenant, user, course, lesson)

    def board(sql: str, params: Any) -> dict[uuid.UUID, tuple[int, int, int]]:
        return {
            row["user_id"]: (row["points"], row["rank"], row["dense_rank"])
            for row in platform.all(sql, params)
        }

    # Ann and Bob tie: they share first place, and Cat is third (rank) or second (dense_rank).
    for period in ("daily", "weekly", "monthly", "all_time"):
        assert board(
            "SELECT user_id, points, rank, dense_rank FROM gamification.organization_leaderboard WHERE period = %s",
            [period],
        ) == {ann: (2 * points, 1, 1), bob: (2 * points, 1, 1), cat: (points, 3, 2)}
    course_board = "SELECT user_id, points, rank, dense_rank FROM gamification.course_leaderboard WHERE course_id = %s AND period = 'all_time'"
    assert board(course_board, [algebra.id]) == {ann: (2 * points, 1, 1), bob: (points, 2, 2)}
    assert board(course_board, [biology.id]) == {bob: (points, 1, 1), cat: (points, 1, 1)}

    # Published boards cut at max_entries by rank, so both users tied for the last place stay.
    platform.db.execute(
        "INSERT INTO gamification.leaderboards (organization_id, name, scope, course_id, period, max_entries)"
        " VALUES (%s, 'Top learners this week', 'organization', NULL, 'weekly', 1),"
        "        (%s, 'Biology all time', 'course', %s, 'all_time', 10)",
        [tenant, tenant, biology.id],
    )
    standings = platform.all(
        "SELECT leaderboard_name, user_id, rank FROM gamification.leaderboard_standings ORDER BY leaderboard_name, user_id"
    )
    assert {(row["leaderboard_name"], row["user_id"], row["rank"]) for row in standings} == {
        ("Top learners this week", ann, 1),
        ("Top learners this week", bob, 1),
        ("Biology all time", bob, 1),
        ("Biology all time", cat, 1),
    }
    assert platform.scalar("SELECT gamification.capture_leaderboard_snapshots()") == len(standings)
    assert platform.scalar("SELECT count(*) FROM gamification.leaderboard_snapshots") == len(
        standings
    )
    # Capturing again replaces the current period's rows instead of adding to them.
    assert platform.scalar("SELECT gamification.capture_leaderboard_snapshots()") == len(standings)
    assert platform.scalar("SELECT count(*) FROM gamification.leaderboard_snapshots") == len(
        standings
    )


def test_an_inactive_user_leaves_the_leaderboard(platform: Platform, tenant: uuid.UUID) -> None:
    ann = platform.create_user(tenant, "Ann")
    bob = platform.create_user(tenant, "Bob")
    course = platform.create_course(tenant, lessons=3)
    platform.as_app(tenant)
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])
    platform.complete_lesson(tenant, bob, course, course.lesson_ids[0])
    platform.complete_lesson(tenant, bob, course, course.lesson_ids[1])

    platform.db.execute("UPDATE user_management.users SET is_active = false WHERE id = %s", [bob])

    rows = platform.all(
        "SELECT user_id, rank FROM gamification.organization_leaderboard WHERE period = 'all_time'"
    )
    assert rows == [{"user_id": ann, "rank": 1}]


# -- achievements ---------------------------------------------------------------------------


def test_an_achievement_unlocks_once_and_pays_its_bonus(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    onboarding = platform.create_course(tenant, lessons=4)
    other = platform.create_course(tenant, lessons=4)
    platform.as_app(tenant, ann)
    lesson_points = platform.effective_points("lesson_completed")
    achievement = platform.scalar(
        "INSERT INTO gamification.achievements"
        " (organization_id, code, name, criteria_type, criteria_event_type, course_id, threshold, bonus_points)"
        " VALUES (%s, 'onboarding_2', 'Two onboarding lessons', 'event_count', 'lesson_completed', %s, 2, 40)"
        " RETURNING id",
        [tenant, onboarding.id],
    )

    # Lessons of another course do not count towards it.
    platform.complete_lesson(tenant, ann, other, other.lesson_ids[0])
    assert (
        platform.all("SELECT * FROM gamification.user_achievements WHERE user_id = %s", [ann]) == []
    )
    platform.complete_lesson(tenant, ann, onboarding, onboarding.lesson_ids[0])
    assert platform.one(
        "SELECT progress, completed_at FROM gamification.user_achievements WHERE user_id = %s",
        [ann],
    ) == {"progress": 1, "completed_at": None}

    platform.complete_lesson(tenant, ann, onboarding, onboarding.lesson_ids[1])
    platform.complete_lesson(tenant, ann, onboarding, onboarding.lesson_ids[2])

    unlocked = platform.one(
        "SELECT progress, completed_at, bonus_transaction_id FROM gamification.user_achievements WHERE user_id = %s",
        [ann],
    )
    assert unlocked["progress"] == 2 and unlocked["completed_at"] is not None
    bonuses = [row for row in platform.ledger(ann) if row["event_type"] == "achievement_unlocked"]
    assert bonuses == [
        {
            "event_type": "achievement_unlocked",
            "points": 40,
            "point_rule_id": None,
            "course_id": onboarding.id,
            "source_type": "achievement",
            "source_id": achievement,
        }
    ]
    assert (
        platform.scalar(
            "SELECT points FROM gamification.point_transactions WHERE id = %s",
            [unlocked["bonus_transaction_id"]],
        )
        == 40
    )
    assert platform.balance(ann)["total_points"] == 4 * lesson_points + 40


# -- integrity ------------------------------------------------------------------------------


def test_zero_points_and_negative_balances_are_refused(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=2)
    platform.as_app(tenant, ann)
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])
    balance = platform.balance(ann)["total_points"]
    adjust = (
        "INSERT INTO gamification.point_transactions (organization_id, user_id, event_type, points, reason)"
        " VALUES (%s, %s, 'manual_adjustment', %s, 'correction')"
    )

    with pytest.raises(psycopg.errors.CheckViolation, match="point_transactions_points_check"):
        platform.db.execute(adjust, [tenant, ann, 0])
    with pytest.raises(
        psycopg.errors.CheckViolation, match="user_point_balances_total_points_check"
    ):
        platform.db.execute(adjust, [tenant, ann, -(balance + 1)])
    assert platform.balance(ann)["total_points"] == balance
    assert len(platform.ledger(ann)) == 1  # the refused deduction left no ledger row

    # A deduction the balance covers goes through, and the level follows the balance down.
    platform.db.execute(adjust, [tenant, ann, -balance])
    assert platform.balance(ann) == {"total_points": 0, "current_level": platform.level_for(0)}

    # A user's very first transaction cannot be a deduction either.
    bob = platform.create_user(tenant, "Bob")
    platform.as_app(tenant, ann)
    with pytest.raises(
        psycopg.errors.CheckViolation, match="user_point_balances_total_points_check"
    ):
        platform.db.execute(adjust, [tenant, bob, -1])


def test_the_application_cannot_forge_derived_state_or_rewrite_the_ledger(
    platform: Platform, tenant: uuid.UUID
) -> None:
    ann = platform.create_user(tenant, "Ann")
    course = platform.create_course(tenant, lessons=1)
    platform.as_app(tenant, ann)
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])

    for statement in (
        "UPDATE gamification.user_point_balances SET total_points = 1000000",
        "UPDATE gamification.point_transactions SET points = 1000000",
        "DELETE FROM gamification.point_transactions",
        "DELETE FROM gamification.user_badges",
        "UPDATE gamification.streaks SET current_length = 365, longest_length = 365",
        "UPDATE gamification.levels SET min_points = 0",
        "INSERT INTO gamification.badges (code, name, description, tier, criteria_type, threshold)"
        " VALUES ('mine', 'Mine', 'Mine', 'gold', 'points_total', 1)",
        # The helpers of the ledger trigger run with the caller's rights when called directly.
        f"SELECT gamification.extend_streak('{tenant}', '{ann}', current_date + 1)",
        f"SELECT gamification.award_earned_badges('{tenant}', '{ann}', NULL)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            platform.db.execute(statement)


def test_tenants_see_only_their_own_gamification_rows(
    platform: Platform, tenant: uuid.UUID
) -> None:
    other_tenant = platform.create_organization()
    ann = platform.create_user(tenant, "Ann")
    olga = platform.create_user(other_tenant, "Olga")
    course = platform.create_course(tenant, lessons=1)
    other_course = platform.create_course(other_tenant, lessons=1)
    platform.as_app(tenant, ann)
    platform.complete_lesson(tenant, ann, course, course.lesson_ids[0])
    platform.as_app(other_tenant, olga)
    platform.complete_lesson(other_tenant, olga, other_course, other_course.lesson_ids[0])

    for table in (
        "point_transactions",
        "user_point_balances",
        "user_badges",
        "streaks",
        "user_activity_counts",
    ):
        owners = platform.all(f"SELECT DISTINCT organization_id FROM gamification.{table}")
        assert owners == [{"organization_id": other_tenant}], table

    # Writing into another tenant's ledger is refused by the policy.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        platform.db.execute(
            "INSERT INTO gamification.point_transactions (organization_id, user_id, event_type, points)"
            " VALUES (%s, %s, 'manual_adjustment', 500)",
            [tenant, ann],
        )
