"""Topics (threads) of a case's discussion: the default "General" topic and
the one place a topic is added.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import phi_gate
from workspace import audit
from workspace.events import broadcast_on_commit, case_group
from workspace.models import User

from ..frames import thread_frame
from ..models import DEFAULT_THREAD_TITLE, MAX_TITLE_CHARS, Thread
from .rules import (
    BadRequest,
    BodyTooLong,
    dismissed_keys,
    rate_limit,
    require_comment,
)

__all__ = ["thread_create", "thread_default"]


def thread_default(*, case: Case) -> Thread:
    """The case's "General" topic, created on first use (safe under races)."""
    thread = Thread.objects.filter(case=case, is_default=True).first()
    if thread is not None:
        return thread
    try:
        with transaction.atomic():
            return Thread.objects.create(
                case=case, title=DEFAULT_THREAD_TITLE, is_default=True
            )
    except IntegrityError:
        # Someone else created it (or a topic already took the title).
        thread = Thread.objects.filter(case=case, is_default=True).first()
        if thread is not None:
            return thread
        thread = Thread.objects.get(case=case, title__iexact=DEFAULT_THREAD_TITLE)
        Thread.objects.filter(pk=thread.pk).update(is_default=True)
        thread.is_default = True
        return thread


@transaction.atomic
def thread_create(
    *,
    case: Case,
    by: User,
    title: str,
    phi_dismissed: Collection[str] | None = None,
    ip: str | None = None,
) -> Thread:
    """Add a topic to the case and announce it with a ``thread.new`` frame.

    Anyone who may comment may add topics. Titles are unique per case,
    ignoring case and surrounding space. The title passes the PHI gate
    (``PHIFound`` unless every finding is fixed or in ``phi_dismissed``).
    Rate limited per user (``RateLimited``, scope ``topic``).
    """
    access = case_access(by, case)
    require_comment(access)
    dismissed = dismissed_keys(phi_dismissed)
    title = " ".join((title or "").split())
    if not title:
        raise BadRequest("Give the topic a title.")
    if len(title) > MAX_TITLE_CHARS:
        raise BodyTooLong(f"Topic titles are at most {MAX_TITLE_CHARS} characters.")
    rate_limit(by=by, scope="topic")
    phi_gate(
        fields={"title": title},
        dismissed=dismissed,
        by=by,
        surface="thread.create",
        case_id=case.pk,
        ip=ip,
    )
    thread_default(case=case)
    if (
        Thread.objects.filter(case=case)
        .annotate(lower=Lower("title"))
        .filter(lower=title.lower())
        .exists()
    ):
        raise BadRequest(f"There is already a topic called “{title}”.")
    try:
        with transaction.atomic():
            thread = Thread.objects.create(case=case, title=title, created_by=by)
    except IntegrityError:
        raise BadRequest(f"There is already a topic called “{title}”.") from None
    thread.last_id = 0
    audit.record(
        actor=by,
        verb="thread.create",
        target=thread,
        case_id=case.pk,
        data={"title": title},
    )
    broadcast_on_commit(
        case_group(case), {"type": "thread.new", "thread": thread_frame(thread)}
    )
    return thread
