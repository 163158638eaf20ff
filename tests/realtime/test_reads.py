"""Unread state per topic: stored per user, monotonic, one query for every topic."""

from __future__ import annotations

import pytest

from realtime.models import Thread
from realtime.reads import thread_mark_read, threads_with_unread
from realtime.services import (
    BadRequest,
    NotFound,
    message_post,
    thread_create,
    thread_default,
)

pytestmark = pytest.mark.django_db


def _post(discussion, by, n: int, thread: Thread | None = None) -> list[int]:
    thread = thread or thread_default(case=discussion.case)
    return [
        message_post(
            case=discussion.case,
            thread=thread.pk,
            by=by,
            body=f"note {i}",
            client_id=f"{by.pk}-{thread.pk}-{i}",
        ).message.pk
        for i in range(n)
    ]


def _unread(discussion, user) -> dict[int, int]:
    return {
        t.pk: t.unread for t in threads_with_unread(case=discussion.case, user=user)
    }


def test_unread_counts_others_messages_and_survive_as_stored_state(discussion):
    thread = thread_default(case=discussion.case)
    ids = _post(discussion, discussion.colleague, 3)
    _post(discussion, discussion.owner, 2)  # one's own messages are never unread

    assert _unread(discussion, discussion.owner) == {thread.pk: 3}
    state = thread_mark_read(
        case=discussion.case, user=discussion.owner, thread=thread.pk, up_to=ids[1]
    )
    assert (state.last_read, state.unread) == (ids[1], 1)
    # A fresh read (a reload) sees the stored marker, not the client's memory.
    assert _unread(discussion, discussion.owner) == {thread.pk: 1}
    # Someone else's marker is their own.
    assert _unread(discussion, discussion.viewer) == {thread.pk: 5}


def test_marker_never_moves_backwards(discussion):
    thread = thread_default(case=discussion.case)
    ids = _post(discussion, discussion.colleague, 3)
    thread_mark_read(
        case=discussion.case, user=discussion.owner, thread=thread.pk, up_to=ids[2]
    )
    state = thread_mark_read(
        case=discussion.case, user=discussion.owner, thread=thread.pk, up_to=ids[0]
    )
    assert (state.last_read, state.unread) == (ids[2], 0)


def test_foreign_topic_or_message_is_refused(discussion, make_case):
    thread = thread_default(case=discussion.case)
    other_case = make_case(discussion.owner)
    other_thread = thread_default(case=other_case)
    ids = _post(discussion, discussion.colleague, 1)
    with pytest.raises(NotFound):
        thread_mark_read(
            case=discussion.case,
            user=discussion.owner,
            thread=other_thread.pk,
            up_to=ids[0],
        )
    with pytest.raises(BadRequest):
        thread_mark_read(
            case=discussion.case, user=discussion.owner, thread=thread.pk, up_to=10**9
        )


def test_unread_for_every_topic_in_one_query(discussion, django_assert_num_queries):
    for i in range(4):
        topic = thread_create(case=discussion.case, by=discussion.owner, title=f"T{i}")
        _post(discussion, discussion.colleague, 2, thread=topic)
    with django_assert_num_queries(1):
        counts = _unread(discussion, discussion.owner)
    assert sorted(counts.values()) == [0, 2, 2, 2, 2]
