"""Integrity rules of the assessment schema, exercised as the application (app_user, tenant set).

Scores and grades can never exceed their maximum, answers are unique per question and attempt,
a pass/fail verdict has to agree with the quiz's pass mark, question options have the shape
their type needs, and every grade change lands in the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.postgres


class School:
    """One organization with a teacher, a learner and a course, built as the superuser."""

    def __init__(self, connection: psycopg.Connection[dict[str, Any]], slug: str) -> None:
        self.db = connection
        self.org = self.scalar(
            "INSERT INTO user_management.organizations (slug, name) VALUES (%s, %s) RETURNING id",
            [slug, slug.title()],
        )
        self.teacher = self._user("Tess")
        self.learner = self._user("Liam")
        self.course = self.scalar(
            "INSERT INTO course_management.courses (organization_id, slug, title)"
            " VALUES (%s, 'statistics', 'Statistics') RETURNING id",
            [self.org],
        )

    def _user(self, name: str) -> uuid.UUID:
        return self.scalar(
            "INSERT INTO user_management.users (organization_id, email, display_name) VALUES (%s, %s, %s) RETURNING id",
            [self.org, f"{name.lower()}@example.test", name],
        )

    def scalar(self, sql: str, params: Any = None) -> Any:
        row = self.db.execute(sql, params).fetchone()
        assert row is not None
        return next(iter(row.values()))

    def act_as(self, user_id: uuid.UUID) -> None:
        """Become the application serving ``user_id`` in this organization."""
        self.db.execute("SET ROLE app_user")
        self.db.execute(
            "SELECT set_config('app.current_organization_id', %s, false)", [str(self.org)]
        )
        self.db.execute("SELECT set_config('app.current_user_id', %s, false)", [str(user_id)])

    # -- quizzes -----------------------------------------------------------------------------

    def quiz(self, pass_percent: int = 60) -> uuid.UUID:
        return self.scalar(
            "INSERT INTO assessment.quizzes (organization_id, course_id, title, status, published_at, pass_percent)"
            " VALUES (%s, %s, 'Quiz', 'published', now(), %s) RETURNING id",
            [self.org, self.course, pass_percent],
        )

    def question(self, quiz_id: uuid.UUID, position: int, points: int = 2) -> uuid.UUID:
        options = [
            {"key": "a", "text": "Mean", "correct": True},
            {"key": "b", "text": "Mode", "correct": False},
        ]
        return self.scalar(
            "INSERT INTO assessment.questions (organization_id, quiz_id, position, question_type, prompt, options, points)"
            " VALUES (%s, %s, %s, 'single_choice', 'Which average?', %s, %s) RETURNING id",
            [self.org, quiz_id, position, Jsonb(options), points],
        )

    def attempt(self, quiz_id: uuid.UUID, attempt_number: int = 1) -> uuid.UUID:
        return self.scalar(
            "INSERT INTO assessment.quiz_attempts (organization_id, quiz_id, user_id, attempt_number)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            [self.org, quiz_id, self.learner, attempt_number],
        )

    # -- assignments -------------------------------------------------------------------------

    def assignment(self, max_points: int = 20, **columns: Any) -> uuid.UUID:
        values = {
            "organization_id": self.org,
            "course_id": self.course,
            "title": "Essay",
            "max_points": max_points,
            "status": "published",
            **columns,
        }
        names = ", ".join(values)
        placeholders = ", ".join(["%s"] * len(values))
        return self.scalar(
            f"INSERT INTO assessment.assignments ({names}) VALUES ({placeholders}) RETURNING id",
            list(values.values()),
        )

    def submission(
        self, assignment_id: uuid.UUID, submitted_at: str | None = None, attempt_number: int = 1
    ) -> uuid.UUID:
        """The learner hands in work, now or at ``submitted_at``."""
        return self.scalar(
            "INSERT INTO assessment.submissions"
            " (organization_id, assignment_id, user_id, attempt_number, status, body, submitted_at)"
            " VALUES (%s, %s, %s, %s, 'submitted', 'My essay', coalesce(%s::timestamptz, now())) RETURNING id",
            [self.org, assignment_id, self.learner, attempt_number, submitted_at],
        )

    def grade(self, submission_id: uuid.UUID, points: float | int) -> uuid.UUID:
        """Grade with only the points given: assignment and maximum are filled in by the schema."""
        return self.scalar(
            "INSERT INTO assessment.grades (organization_id, submission_id, grader_id, points)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            [self.org, submission_id, self.teacher, points],
        )


@pytest.fixture
def school(platform_db: str) -> Iterator[School]:
    with psycopg.connect(platform_db, autocommit=True, row_factory=dict_row) as connection:
        school = School(connection, "north-school")
        school.act_as(school.teacher)
        yield school


# -- grades ---------------------------------------------------------------------------------


def test_a_grade_above_the_assignment_maximum_is_refused(school: School) -> None:
    assignment = school.assignment(max_points=20)
    submission = school.submission(assignment)

    with pytest.raises(psycopg.errors.CheckViolation, match="grades_points_within_max"):
        school.grade(submission, 20.5)
    with pytest.raises(psycopg.errors.CheckViolation, match="grades_points_within_max"):
        school.grade(submission, -1)

    grade = school.grade(submission, 20)
    row = school.db.execute(
        "SELECT points, max_points, assignment_id FROM assessment.grades WHERE id = %s", [grade]
    ).fetchone()
    assert row == {
        "points": Decimal("20.00"),
        "max_points": Decimal("20.00"),
        "assignment_id": assignment,
    }
    with pytest.raises(psycopg.errors.CheckViolation, match="grades_points_within_max"):
        school.db.execute("UPDATE assessment.grades SET points = 21 WHERE id = %s", [grade])


def test_a_grade_cannot_claim_another_maximum_or_assignment(school: School) -> None:
    assignment = school.assignment(max_points=20)
    other_assignment = school.assignment(max_points=100)
    submission = school.submission(assignment)

    # Declaring a larger maximum than the assignment's does not get a high grade through.
    with pytest.raises(
        psycopg.errors.ForeignKeyViolation, match="grades_assignment_max_points_fkey"
    ):
        school.db.execute(
            "INSERT INTO assessment.grades (organization_id, submission_id, points, max_points)"
            " VALUES (%s, %s, 90, 100)",
            [school.org, submission],
        )
    # Nor does pretending the submission belongs to an assignment with a larger maximum.
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="grades_submission_fkey"):
        school.db.execute(
            "INSERT INTO assessment.grades (organization_id, submission_id, assignment_id, points, max_points)"
            " VALUES (%s, %s, %s, 90, 100)",
            [school.org, submission, other_assignment],
        )


def test_lowering_the_maximum_below_a_given_grade_is_refused(school: School) -> None:
    assignment = school.assignment(max_points=20)
    grade = school.grade(school.submission(assignment), 18)

    with pytest.raises(psycopg.errors.CheckViolation, match="grades_points_within_max"):
        school.db.execute(
            "UPDATE assessment.assignments SET max_points = 15 WHERE id = %s", [assignment]
        )

    school.db.execute(
        "UPDATE assessment.assignments SET max_points = 25 WHERE id = %s", [assignment]
    )
    assert school.scalar(
        "SELECT max_points FROM assessment.grades WHERE id = %s", [grade]
    ) == Decimal("25.00")


def test_a_grade_change_is_audited(school: School) -> None:
    submission = school.submission(school.assignment(max_points=20))
    grade = school.grade(submission, 12)
    school.db.execute(
        "UPDATE assessment.grades SET points = 15, feedback = 'Regraded after appeal' WHERE id = %s",
        [grade],
    )

    entries = school.db.execute(
        "SELECT operation::text AS operation, actor_user_id, organization_id,"
        "       old_row ->> 'points' AS old_points, new_row ->> 'points' AS new_points"
        "  FROM user_management.audit_log"
        " WHERE table_schema = 'assessment' AND table_name = 'grades' AND row_id = %s"
        " ORDER BY id",
        [str(grade)],
    ).fetchall()
    assert entries == [
        {
            "operation": "insert",
            "actor_user_id": school.teacher,
            "organization_id": school.org,
            "old_points": None,
            "new_points": "12.00",
        },
        {
            "operation": "update",
            "actor_user_id": school.teacher,
            "organization_id": school.org,
            "old_points": "12.00",
            "new_points": "15.00",
        },
    ]
    # Recording the grade moved the submission to graded, and that change is audited too.
    assert (
        school.scalar("SELECT status::text FROM assessment.submissions WHERE id = %s", [submission])
        == "graded"
    )
    assert (
        school.scalar(
            "SELECT count(*) FROM user_management.audit_log"
            " WHERE table_name = 'submissions' AND row_id = %s AND new_row ->> 'status' = 'graded'",
            [str(submission)],
        )
        == 1
    )


def test_rubric_scores_are_bounded_by_their_criterion(school: School) -> None:
    rubric = school.scalar(
        "INSERT INTO assessment.rubrics (organization_id, course_id, title) VALUES (%s, %s, 'Essay rubric') RETURNING id",
        [school.org, school.course],
    )
    criterion = school.scalar(
        "INSERT INTO assessment.rubric_criteria (organization_id, rubric_id, position, title, max_points)"
        " VALUES (%s, %s, 1, 'Structure', 5) RETURNING id",
        [school.org, rubric],
    )
    grade = school.grade(school.submission(school.assignment(max_points=20, rubric_id=rubric)), 10)
    score = "INSERT INTO assessment.criterion_scores (organization_id, grade_id, criterion_id, points) VALUES (%s, %s, %s, %s)"

    with pytest.raises(psycopg.errors.CheckViolation, match="criterion_scores_points_within_max"):
        school.db.execute(score, [school.org, grade, criterion, 6])
    school.db.execute(score, [school.org, grade, criterion, 5])
    with pytest.raises(psycopg.errors.UniqueViolation):
        school.db.execute(score, [school.org, grade, criterion, 4])


# -- quizzes --------------------------------------------------------------------------------


def test_a_score_above_the_maximum_is_refused(school: School) -> None:
    attempt = school.attempt(school.quiz())
    school.act_as(school.learner)
    grade_attempt = "UPDATE assessment.quiz_attempts SET submitted_at = now(), score = %s, max_score = %s WHERE id = %s"

    with pytest.raises(psycopg.errors.CheckViolation, match="quiz_attempts_score_within_max"):
        school.db.execute(grade_attempt, [11, 10, attempt])
    with pytest.raises(psycopg.errors.CheckViolation, match="quiz_attempts_score_within_max"):
        school.db.execute(grade_attempt, [5, None, attempt])
    school.db.execute(grade_attempt, [10, 10, attempt])
    assert school.scalar(
        "SELECT score FROM assessment.quiz_attempts WHERE id = %s", [attempt]
    ) == Decimal("10.00")


def test_the_verdict_must_agree_with_the_pass_mark(school: School) -> None:
    attempt = school.attempt(school.quiz(pass_percent=60))
    verdict = "UPDATE assessment.quiz_attempts SET submitted_at = now(), score = %s, max_score = 10, passed = %s WHERE id = %s"

    with pytest.raises(psycopg.errors.CheckViolation, match="contradicts"):
        school.db.execute(verdict, [5, True, attempt])
    with pytest.raises(psycopg.errors.CheckViolation, match="contradicts"):
        school.db.execute(verdict, [6, False, attempt])
    school.db.execute(verdict, [6, True, attempt])  # exactly the pass mark passes
    assert (
        school.scalar("SELECT passed FROM assessment.quiz_attempts WHERE id = %s", [attempt])
        is True
    )


def test_attempts_respect_publication_and_the_attempt_limit(school: School) -> None:
    quiz = school.quiz()
    school.db.execute("UPDATE assessment.quizzes SET max_attempts = 2 WHERE id = %s", [quiz])
    school.attempt(quiz, 1)
    school.attempt(quiz, 2)
    with pytest.raises(psycopg.errors.CheckViolation, match="exceeds the 2 attempts"):
        school.attempt(quiz, 3)
    with pytest.raises(psycopg.errors.UniqueViolation):
        school.attempt(quiz, 2)

    draft = school.scalar(
        "INSERT INTO assessment.quizzes (organization_id, course_id, title) VALUES (%s, %s, 'Draft') RETURNING id",
        [school.org, school.course],
    )
    with pytest.raises(psycopg.errors.CheckViolation, match="not published"):
        school.attempt(draft)


def test_one_answer_per_question_and_attempt(school: School) -> None:
    quiz = school.quiz()
    question = school.question(quiz, 1, points=2)
    attempt = school.attempt(quiz)
    answer = (
        "INSERT INTO assessment.attempt_answers (organization_id, attempt_id, question_id, answer, is_correct, points_awarded)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
    )
    school.db.execute(answer, [school.org, attempt, question, Jsonb(["a"]), True, 2])

    with pytest.raises(
        psycopg.errors.UniqueViolation, match="attempt_answers_attempt_id_question_id_key"
    ):
        school.db.execute(answer, [school.org, attempt, question, Jsonb(["b"]), False, 0])
    # The question's points were copied in, and they bound the points an answer may award.
    assert school.scalar(
        "SELECT question_points FROM assessment.attempt_answers WHERE attempt_id = %s", [attempt]
    ) == Decimal("2.00")
    other_question = school.question(quiz, 2, points=2)
    with pytest.raises(
        psycopg.errors.CheckViolation, match="attempt_answers_points_within_question"
    ):
        school.db.execute(answer, [school.org, attempt, other_question, Jsonb(["a"]), True, 3])


@pytest.mark.parametrize(
    ("question_type", "options", "violated"),
    [
        (
            "single_choice",
            [{"key": "a", "text": "Yes", "correct": True}],
            "questions_options_shape",
        ),
        (
            "single_choice",
            [{"key": "a", "text": "Yes", "correct": True}, {"key": "b"}],
            "questions_options_shape",
        ),
        ("single_choice", {"key": "a", "text": "Yes", "correct": True}, "questions_options_shape"),
        (
            "single_choice",
            [
                {"key": "a", "text": "Yes", "correct": True},
                {"key": "b", "text": "No", "correct": True},
            ],
            "questions_correct_options",
        ),
        (
            "multiple_choice",
            [{"key": "a", "text": "Yes"}, {"key": "b", "text": "No"}],
            "questions_correct_options",
        ),
        (
            "essay",
            [{"key": "a", "text": "Yes"}, {"key": "b", "text": "No"}],
            "questions_options_shape",
        ),
    ],
)
def test_question_options_must_fit_the_question_type(
    school: School, question_type: str, options: Any, violated: str
) -> None:
    quiz = school.quiz()
    with pytest.raises(psycopg.errors.CheckViolation, match=violated):
        school.db.execute(
            "INSERT INTO assessment.questions (organization_id, quiz_id, position, question_type, prompt, options)"
            " VALUES (%s, %s, 1, %s, 'Prompt', %s)",
            [school.org, quiz, question_type, Jsonb(options)],
        )


def test_well_formed_questions_are_accepted(school: School) -> None:
    quiz = school.quiz()
    school.question(quiz, 1)
    school.db.execute(
        "INSERT INTO assessment.questions (organization_id, quiz_id, position, question_type, prompt, options)"
        " VALUES (%s, %s, 2, 'multiple_choice', 'Pick the measures of spread', %s)",
        [
            school.org,
            quiz,
            Jsonb(
                [
                    {"key": "a", "text": "Variance", "correct": True},
                    {"key": "b", "text": "Range", "correct": True},
                    {"key": "c", "text": "Median", "correct": False},
                ]
            ),
        ],
    )
    school.db.execute(
        "INSERT INTO assessment.questions (organization_id, quiz_id, position, question_type, prompt, accepted_answers)"
        " VALUES (%s, %s, 3, 'short_answer', 'Symbol of the standard deviation?', ARRAY['sigma', 'σ'])",
        [school.org, quiz],
    )
    assert (
        school.scalar("SELECT count(*) FROM assessment.questions WHERE quiz_id = %s", [quiz]) == 3
    )


# -- submissions ----------------------------------------------------------------------------


def test_late_submissions_are_flagged_or_refused(school: School) -> None:
    strict = school.assignment(due_at="2020-01-01T00:00:00Z")
    lenient = school.assignment(due_at="2020-01-01T00:00:00Z", late_submissions_allowed=True)
    school.act_as(school.learner)

    with pytest.raises(psycopg.errors.CheckViolation, match="late submissions are not accepted"):
        school.submission(strict)
    late = school.submission(lenient)
    on_time = school.submission(lenient, submitted_at="2019-12-31T12:00:00Z", attempt_number=2)
    rows = school.db.execute(
        "SELECT id, is_late FROM assessment.submissions WHERE id IN (%s, %s)", [late, on_time]
    ).fetchall()
    assert {row["id"]: row["is_late"] for row in rows} == {late: True, on_time: False}


def test_another_tenant_cannot_see_or_grade_the_work(school: School) -> None:
    submission = school.submission(school.assignment(max_points=20))
    school.db.execute("RESET ROLE")
    rival = School(school.db, "south-school")
    rival.act_as(rival.teacher)

    assert rival.scalar("SELECT count(*) FROM assessment.submissions") == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        school.db.execute(
            "INSERT INTO assessment.grades (organization_id, submission_id, points) VALUES (%s, %s, 1)",
            [school.org, submission],
        )
