"""The consult sections of the dashboard (see :mod:`cases.selectors_dashboard`).

- waiting: ``consults_queue_queryset`` (verified clinicians only, the consult
  rules of :mod:`consults.selectors`), with how many are overdue;
- answered: the user's own requests, status answered (the requester reads the
  answer and closes it).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from cases.selectors_dashboard import SECTION_ROWS, Section, section_of
from consults.models import ConsultRequest
from consults.selectors import consults_queue_queryset
from workspace.models import User

__all__ = ["sections"]


def sections(user: User) -> dict[str, Any]:
    """Three queries at most, whatever the number of consults."""
    waiting, overdue = _consults_waiting(user)
    return {
        "consults_waiting": waiting,
        "consults_overdue": overdue,
        "consults_answered": _consults_answered(user),
    }


def _consults_waiting(user: User) -> tuple[Section, int]:
    if not user.is_verified_clinician:
        return Section(), 0
    queue = consults_queue_queryset(user)
    now = timezone.now()
    totals = queue.order_by().aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
    )
    items = list(queue[:SECTION_ROWS])
    for consult in items:
        consult.overdue = consult.due_at < now
    return Section(count=totals["total"], items=items), totals["overdue"]


def _consults_answered(user: User) -> Section:
    if not user.is_clinician:
        return Section()
    return section_of(
        ConsultRequest.objects.select_related("case", "specialty", "assignee")
        .filter(requested_by=user, status=ConsultRequest.Status.ANSWERED)
        .order_by("-answered_at", "-id")
    )
