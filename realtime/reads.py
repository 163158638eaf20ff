"""Unread state per topic (Zulip-style): how far each user has read each
thread, the one place it moves, and the counts shown as badges.

A message is *unread* for a user when its id is above the user's
``ThreadReadState.last_read_id`` for its thread (0 when there is none), it
was written by someone else and it is not deleted. Counts are computed when a
page or a socket asks (the panel, ``hello``, a ``read`` frame) in one
aggregate query for all of a case's topics; nothing is computed per relayed
message, so fan-out stays one frame per connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, FilteredRelation, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from cases.models import Case
from workspace.models import User

from .models import Message, Thread, ThreadReadState
from .ratelimit import rate_limit_retry_after
from .selectors import threads_for_case
from .services import BadRequest, NotFound, RateLimited

__all__ = ["ReadState", "thread_mark_read", "threads_with_unread"]

READ_RATE_LIMIT_DEFAULT = 60
READ_RATE_WINDOW_DEFAULT = 10


def threads_with_unread(*, case: Case | int, user: User) -> QuerySet[Thread]:
    """The case's topics (``threads_for_case``: default first, with
    ``last_id``), each also annotated with ``last_read`` (the user's read
    marker, 0 when none) and ``unread`` (the number of unread messages): one
    query whatever the number of topics."""
    return (
        threads_for_case(case)
        .annotate(
            mine=FilteredRelation("read_states", condition=Q(read_states__user=user)),
        )
        .annotate(
            last_read=Coalesce(Max("mine__last_read_id"), Value(0)),
            unread=Count(
                "messages",
                filter=Q(messages__id__gt=Coalesce(F("mine__last_read_id"), Value(0)))
                & Q(messages__deleted__isnull=True)
                & ~Q(messages__author=user),
            ),
        )
    )


@dataclass(frozen=True)
class ReadState:
    thread: int
    last_read: int
    unread: int

    def frame(self) -> dict:
        return {
            "type": "read.state",
            "thread": self.thread,
            "last_read": self.last_read,
            "unread": self.unread,
        }


def _rate_limit(*, user: User) -> None:
    wait = rate_limit_retry_after(
        user_id=user.pk,
        scope="read",
        limit=getattr(settings, "READ_RATE_LIMIT", READ_RATE_LIMIT_DEFAULT),
        window=getattr(settings, "READ_RATE_WINDOW_SECONDS", READ_RATE_WINDOW_DEFAULT),
    )
    if wait:
        raise RateLimited(
            f"Too many read reports; try again in {wait} second"
            f"{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )


def thread_mark_read(*, case: Case, user: User, thread: int, up_to: int) -> ReadState:
    """Record that ``user`` has read topic ``thread`` of ``case`` up to message
    ``up_to`` (inclusive) and return the resulting state.

    The caller has checked that ``user`` may view ``case``. ``thread`` must be
    a topic of this case (``NotFound``) and ``up_to`` a message of that topic
    (``BadRequest``). The marker never moves backwards: a report older than
    the stored one changes nothing and returns the stored state. Reports are
    rate-limited per user (``RateLimited``).
    """
    if not Thread.objects.filter(pk=thread, case=case).exists():
        raise NotFound("That topic does not exist in this case.")
    if not Message.objects.filter(pk=up_to, thread_id=thread).exists():
        raise BadRequest("`up_to` must be the id of a message in this topic.")
    _rate_limit(user=user)
    with transaction.atomic():
        state, created = ThreadReadState.objects.get_or_create(
            user=user, thread_id=thread, defaults={"last_read_id": up_to}
        )
        if not created and state.last_read_id < up_to:
            # Conditional update: two tabs racing can only move it forward.
            ThreadReadState.objects.filter(pk=state.pk, last_read_id__lt=up_to).update(
                last_read_id=up_to
            )
    last_read = max(state.last_read_id, up_to)
    unread = (
        Message.objects.filter(thread_id=thread, id__gt=last_read, deleted__isnull=True)
        .exclude(author=user)
        .count()
    )
    return ReadState(thread=thread, last_read=last_read, unread=unread)
