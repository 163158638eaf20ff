"""Read queries for discussions. Callers check case access first (consumers and
views go through ``cases.selectors``); these only ever read within one case.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from cases.models import Case, CaseParticipant
from cases.permissions import case_viewers_q
from workspace.models import User

from .models import Message, Thread

__all__ = [
    "HISTORY_DEFAULT_LIMIT",
    "HISTORY_MAX_LIMIT",
    "MENTIONABLE_LIMIT",
    "HistoryPage",
    "annotations_for_case",
    "case_last_message",
    "case_mentionable",
    "mentionable_users",
    "message_history",
    "threads_for_case",
]

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100
MENTIONABLE_LIMIT = 8


def threads_for_case(case: Case | int) -> QuerySet[Thread]:
    """The case's topics, default first, each annotated with ``last_id``."""
    return Thread.objects.filter(case=case).annotate(last_id=Max("messages__id"))


def annotations_for_case(case: Case | int) -> QuerySet[Message]:
    """The case's live messages anchored to media that still exists."""
    return Message.objects.filter(
        case=case, anchor_media__isnull=False, deleted__isnull=True
    )


def case_last_message(case: Case | int) -> tuple[int, int]:
    """``(last message id, last seq)`` in the case; ``(0, 0)`` when empty."""
    row = (
        Message.objects.filter(case=case)
        .order_by("-id")
        .values_list("id", "seq")
        .first()
    )
    return row or (0, 0)


@dataclass(frozen=True)
class HistoryPage:
    messages: list[Message]  # oldest first
    has_more: bool


def message_history(
    *,
    case: Case | int,
    thread: Thread | int | None = None,
    after: int | None = None,
    before: int | None = None,
    limit: int = HISTORY_DEFAULT_LIMIT,
) -> HistoryPage:
    """One page of messages (tombstones included), oldest first.

    - ``after`` alone: the first ``limit`` messages with a larger id; exactly
      what a reconnecting client missed. ``has_more`` means more follow.
    - ``before`` (with or without ``after``): the newest ``limit`` messages
      below it; ``has_more`` means older ones remain (in the range).
    - neither: the newest ``limit`` messages; ``has_more`` means older exist.

    ``thread=None`` spans every topic of the case (reconnect catch-up).
    """
    limit = max(1, min(int(limit), HISTORY_MAX_LIMIT))
    qs = Message.objects.filter(case=case).select_related(
        "author", "anchor_media__asset"
    )
    if thread is not None:
        qs = qs.filter(thread=thread)
    if after is not None:
        qs = qs.filter(id__gt=after)
    if before is not None:
        qs = qs.filter(id__lt=before)
    if after is not None and before is None:
        rows = list(qs.order_by("id")[: limit + 1])
        return HistoryPage(messages=rows[:limit], has_more=len(rows) > limit)
    rows = list(qs.order_by("-id")[: limit + 1])
    page = rows[:limit]
    page.reverse()
    return HistoryPage(messages=page, has_more=len(rows) > limit)


def case_mentionable(case: Case) -> QuerySet[User]:
    """Everyone an ``@username`` in this case's discussion can reach.

    The rule of the mention parser (``services.messages._render``): active
    users who can see the case, so never patients, deactivated accounts or
    outsiders.
    """
    return User.objects.filter(case_viewers_q(case), is_active=True)


def mentionable_users(
    *, case: Case, by: User, prefix: str = "", limit: int = MENTIONABLE_LIMIT
) -> list[User]:
    """Up to ``limit`` people ``by`` can mention whose username, first or last
    name starts with ``prefix`` (any case); participants first, then by name.

    ``by`` is left out (mentioning oneself notifies nobody). Two queries,
    however many people match: the users, then their specialties.
    """
    people = case_mentionable(case).exclude(pk=by.pk)
    prefix = prefix.strip().lstrip("@")
    if prefix:
        people = people.filter(
            Q(username__istartswith=prefix)
            | Q(first_name__istartswith=prefix)
            | Q(last_name__istartswith=prefix)
        )
    participating = Exists(
        CaseParticipant.objects.filter(case=case, user=OuterRef("pk"))
    )
    return list(
        people.annotate(participating=participating)
        .select_related("clinician_profile")
        .prefetch_related("clinician_profile__specialties")
        .order_by(
            "-participating",
            Lower("first_name"),
            Lower("last_name"),
            Lower("username"),
            "pk",
        )[: max(1, min(int(limit), MENTIONABLE_LIMIT))]
    )
