"""The social schema on the platform database built from generated/: forum search, reactions,
follows, private messages and peer reviews, exercised as the application (app_user, row-level
security on) wherever the application is the one doing it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors


@dataclass(frozen=True)
class Tenant:
    organization_id: uuid.UUID
    users: tuple[uuid.UUID, ...]
    forum_id: uuid.UUID
    thread_id: uuid.UUID


def _create_tenant(conn: psycopg.Connection, slug: str, user_count: int = 3) -> Tenant:
    """An organization with users, a forum and a thread, written as the superuser (no RLS)."""
    (organization_id,) = conn.execute(
        "INSERT INTO user_management.organizations (slug, name) VALUES (%s, %s) RETURNING id",
        (slug, slug.replace("-", " ").title()),
    ).fetchone()
    users = tuple(
        conn.execute(
            "INSERT INTO user_management.users (organization_id, email, display_name)"
            " VALUES (%s, %s, %s) RETURNING id",
            (organization_id, f"learner{i}@{slug}.example", f"Learner {i}"),
        ).fetchone()[0]
        for i in range(user_count)
    )
    (forum_id,) = conn.execute(
        "INSERT INTO social.forums (organization_id, slug, title) VALUES (%s, 'general', 'General')"
        " RETURNING id",
        (organization_id,),
    ).fetchone()
    (thread_id,) = conn.execute(
        "INSERT INTO social.threads (organization_id, forum_id, author_id, title)"
        " VALUES (%s, %s, %s, 'Welcome') RETURNING id",
        (organization_id, forum_id, users[0]),
    ).fetchone()
    return Tenant(organization_id, users, forum_id, thread_id)


def _act_as_application(conn: psycopg.Connection, tenant: Tenant) -> None:
    conn.execute(
        "SELECT set_config('app.current_organization_id', %s, false)",
        (str(tenant.organization_id),),
    )
    conn.execute("SET ROLE app_user")


def _add_post(
    conn: psycopg.Connection,
    tenant: Tenant,
    author: uuid.UUID,
    body: str,
    thread_id: uuid.UUID | None = None,
    parent_post_id: uuid.UUID | None = None,
) -> uuid.UUID:
    (post_id,) = conn.execute(
        "INSERT INTO social.posts (organization_id, thread_id, author_id, parent_post_id, body)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (tenant.organization_id, thread_id or tenant.thread_id, author, parent_post_id, body),
    ).fetchone()
    return post_id


@pytest.fixture
def conn(platform_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(platform_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
def tenant(conn: psycopg.Connection) -> Tenant:
    return _create_tenant(conn, "acme-academy")


@pytest.fixture
def other_tenant(conn: psycopg.Connection) -> Tenant:
    return _create_tenant(conn, "globex-university")


def test_post_search_finds_posts_by_word_stem(conn, tenant, other_tenant):
    _add_post(
        conn, other_tenant, other_tenant.users[0], "Our runner crashed while running migrations."
    )
    _act_as_application(conn, tenant)
    running = _add_post(
        conn, tenant, tenant.users[0], "The migrations were running slowly on Tuesday."
    )
    _add_post(conn, tenant, tenant.users[1], "Photosynthesis explained with pictures.")

    # "runs" and "running" share the English stem "run"; RLS hides the other tenant's match.
    found = conn.execute("SELECT post_id, headline FROM social.search_posts('runs')").fetchall()
    assert [row[0] for row in found] == [running]
    assert "<b>running</b>" in found[0][1]

    direct = conn.execute(
        "SELECT id FROM social.posts WHERE search @@ websearch_to_tsquery('english', 'run')"
    ).fetchall()
    assert direct == [(running,)]
    assert conn.execute("SELECT count(*) FROM social.search_posts('chlorophyll')").fetchone() == (
        0,
    )


def test_posting_awards_forum_points_and_counts_on_the_thread(conn, tenant):
    _act_as_application(conn, tenant)
    author = tenant.users[1]
    post_id = _add_post(conn, tenant, author, "First question: where do I find the syllabus?")
    _add_post(conn, tenant, tenant.users[2], "In the course overview.", parent_post_id=post_id)

    awarded = conn.execute(
        "SELECT user_id, points FROM gamification.point_transactions"
        " WHERE event_type = 'forum_post_created' AND source_id = %s",
        (post_id,),
    ).fetchall()
    assert len(awarded) == 1
    assert awarded[0][0] == author
    assert awarded[0][1] > 0

    post_count, last_post_at = conn.execute(
        "SELECT post_count, last_post_at FROM social.threads WHERE id = %s", (tenant.thread_id,)
    ).fetchone()
    newest = conn.execute(
        "SELECT max(created_at) FROM social.posts WHERE thread_id = %s", (tenant.thread_id,)
    ).fetchone()[0]
    assert (post_count, last_post_at) == (2, newest)


def test_reply_must_stay_in_the_thread_of_its_parent(conn, tenant):
    _act_as_application(conn, tenant)
    (other_thread,) = conn.execute(
        "INSERT INTO social.threads (organization_id, forum_id, author_id, title)"
        " VALUES (%s, %s, %s, 'Off topic') RETURNING id",
        (tenant.organization_id, tenant.forum_id, tenant.users[0]),
    ).fetchone()
    parent = _add_post(conn, tenant, tenant.users[0], "A question in the welcome thread.")
    with pytest.raises(errors.ForeignKeyViolation) as refused:
        _add_post(
            conn,
            tenant,
            tenant.users[1],
            "An answer posted elsewhere.",
            thread_id=other_thread,
            parent_post_id=parent,
        )
    assert refused.value.diag.constraint_name == "posts_parent_post_fkey"


def test_locked_thread_refuses_new_posts(conn, tenant):
    _act_as_application(conn, tenant)
    _add_post(conn, tenant, tenant.users[0], "Last word before locking.")
    conn.execute("UPDATE social.threads SET is_locked = true WHERE id = %s", (tenant.thread_id,))
    with pytest.raises(errors.CheckViolation, match="is locked"):
        _add_post(conn, tenant, tenant.users[1], "Too late.")


def test_self_follow_is_refused(conn, tenant):
    _act_as_application(conn, tenant)
    me, friend = tenant.users[0], tenant.users[1]
    conn.execute(
        "INSERT INTO social.follows (organization_id, follower_id, followee_id) VALUES (%s, %s, %s)",
        (tenant.organization_id, me, friend),
    )
    with pytest.raises(errors.CheckViolation) as refused:
        conn.execute(
            "INSERT INTO social.follows (organization_id, follower_id, followee_id) VALUES (%s, %s, %s)",
            (tenant.organization_id, me, me),
        )
    assert refused.value.diag.constraint_name == "follows_no_self_follow"
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "INSERT INTO social.follows (organization_id, follower_id, followee_id) VALUES (%s, %s, %s)",
            (tenant.organization_id, me, friend),
        )


def test_following_a_member_of_another_organization_is_refused(conn, tenant, other_tenant):
    _act_as_application(conn, tenant)
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO social.follows (organization_id, follower_id, followee_id) VALUES (%s, %s, %s)",
            (tenant.organization_id, tenant.users[0], other_tenant.users[0]),
        )


def test_duplicate_reaction_is_refused(conn, tenant):
    _act_as_application(conn, tenant)
    post_id = _add_post(conn, tenant, tenant.users[0], "Here are my notes on chapter 3.")
    react = "INSERT INTO social.reactions (organization_id, post_id, user_id, kind) VALUES (%s, %s, %s, %s)"
    conn.execute(react, (tenant.organization_id, post_id, tenant.users[1], "helpful"))
    # Another kind from the same member, and the same kind from another member, are fine.
    conn.execute(react, (tenant.organization_id, post_id, tenant.users[1], "thanks"))
    conn.execute(react, (tenant.organization_id, post_id, tenant.users[2], "helpful"))
    with pytest.raises(errors.UniqueViolation) as refused:
        conn.execute(react, (tenant.organization_id, post_id, tenant.users[1], "helpful"))
    assert refused.value.diag.constraint_name == "reactions_pkey"
    assert conn.execute(
        "SELECT count(*) FROM social.reactions WHERE post_id = %s", (post_id,)
    ).fetchone() == (3,)


def test_unread_message_counts_per_conversation(conn, tenant, other_tenant):
    alice, bob, carol = tenant.users
    _act_as_application(conn, tenant)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def conversation(*members: uuid.UUID) -> uuid.UUID:
        (conversation_id,) = conn.execute(
            "INSERT INTO social.conversations (organization_id, kind, created_by)"
            " VALUES (%s, %s, %s) RETURNING id",
            (tenant.organization_id, "direct" if len(members) == 2 else "group", members[0]),
        ).fetchone()
        for member in members:
            conn.execute(
                "INSERT INTO social.conversation_participants (organization_id, conversation_id, user_id,"
                " joined_at) VALUES (%s, %s, %s, %s)",
                (tenant.organization_id, conversation_id, member, start),
            )
        return conversation_id

    def send(conversation_id: uuid.UUID, sender: uuid.UUID, minutes: int) -> None:
        conn.execute(
            "INSERT INTO social.messages (organization_id, conversation_id, sender_id, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                tenant.organization_id,
                conversation_id,
                sender,
                f"message at +{minutes} min",
                start + timedelta(minutes=minutes),
            ),
        )

    def unread(user: uuid.UUID) -> dict[uuid.UUID, int]:
        rows = conn.execute(
            "SELECT conversation_id, unread_count FROM social.unread_message_counts(%s)", (user,)
        ).fetchall()
        return dict(rows)

    direct = conversation(alice, bob)
    group = conversation(alice, bob, carol)
    for minutes in (1, 2, 3):
        send(direct, bob, minutes)
    send(direct, alice, 4)  # replying marks the conversation read for alice up to her reply
    send(direct, bob, 5)
    send(group, carol, 6)
    send(group, carol, 7)

    assert unread(alice) == {direct: 1, group: 2}
    # Sending at +5 marked the direct conversation read for bob (alice's reply included), and
    # his own messages never count.
    assert unread(bob) == {group: 2}
    assert unread(carol) == {}

    # "Mark as unread" moves the read marker back: only the others' messages after it count.
    conn.execute(
        "UPDATE social.conversation_participants SET last_read_at = %s"
        " WHERE conversation_id = %s AND user_id = %s",
        (start + timedelta(minutes=2), direct, bob),
    )
    assert unread(bob) == {direct: 1, group: 2}

    conn.execute(
        "UPDATE social.conversation_participants SET last_read_at = %s"
        " WHERE conversation_id = %s AND user_id = %s",
        (start + timedelta(minutes=6), group, alice),
    )
    assert unread(alice) == {direct: 1, group: 1}

    conn.execute(
        "UPDATE social.conversation_participants SET left_at = %s"
        " WHERE conversation_id = %s AND user_id = %s",
        (start + timedelta(minutes=8), group, bob),
    )
    assert unread(bob) == {direct: 1}

    inbox_order = conn.execute(
        "SELECT last_message_at FROM social.conversations WHERE id = %s", (group,)
    ).fetchone()[0]
    assert inbox_order == start + timedelta(minutes=7)


def test_peer_review_of_own_submission_is_refused(conn, tenant):
    author, reviewer = tenant.users[0], tenant.users[1]
    (course_id,) = conn.execute(
        "INSERT INTO course_management.courses (organization_id, slug, title)"
        " VALUES (%s, 'essay-writing', 'Essay writing') RETURNING id",
        (tenant.organization_id,),
    ).fetchone()
    (assignment_id,) = conn.execute(
        "INSERT INTO assessment.assignments (organization_id, course_id, title)"
        " VALUES (%s, %s, 'Persuasive essay') RETURNING id",
        (tenant.organization_id, course_id),
    ).fetchone()
    (submission_id,) = conn.execute(
        "INSERT INTO assessment.submissions (organization_id, assignment_id, user_id, body)"
        " VALUES (%s, %s, %s, 'My draft') RETURNING id",
        (tenant.organization_id, assignment_id, author),
    ).fetchone()

    _act_as_application(conn, tenant)
    review = "INSERT INTO social.peer_reviews (organization_id, submission_id, reviewer_id) VALUES (%s, %s, %s)"
    with pytest.raises(errors.CheckViolation, match="own submission"):
        conn.execute(review, (tenant.organization_id, submission_id, author))
    conn.execute(review, (tenant.organization_id, submission_id, reviewer))

    # Submitting needs a score and feedback.
    with pytest.raises(errors.CheckViolation):
        conn.execute(
            "UPDATE social.peer_reviews SET status = 'submitted', submitted_at = now()"
            " WHERE submission_id = %s",
            (submission_id,),
        )
    conn.execute(
        "UPDATE social.peer_reviews SET status = 'submitted', submitted_at = now(), score = 80,"
        " feedback = 'Clear thesis; the second argument needs a source.' WHERE submission_id = %s",
        (submission_id,),
    )
