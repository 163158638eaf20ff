"""What the dashboard shows a clinician: the work waiting for them, then news.

Each task section is a ``Section``: how many rows match and the first few of
them, so the page says "7 consults waiting" while listing only the most
pressing. Every section costs one count query and one list query (two for
cases' owners), whatever the number of rows; visibility comes from the
selectors each section is built on:

- consults waiting: ``consults_queue_queryset`` (verified clinicians only,
  the consult rules of ``selectors_clinical``);
- consults answered: the user's own requests, status answered (the requester
  reads the answer and closes it);
- inbox: ``submissions_for_inbox`` (unread, verified clinicians only; an
  unverified clinician gets the count and the reason, as on the inbox page);
- mentions: the user's own unread ``Notification`` rows of kind mention;
- drafts: drafts ``user`` may edit (owner or collaborator), from
  ``cases_visible_to``;
- recent activity: non-archived cases ``user`` owns or takes part in, most
  recently changed first, and colleagues' newest published cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from workspace.models import ClinicianProfile, Notification, User
from workspace.services import VERIFICATION_NEEDED

from .models import Case, CaseParticipant, ConsultRequest, Submission
from .permissions import EDIT_ROLES, OPEN_STATUSES
from .selectors import cases_visible_to
from .selectors_clinical import consults_queue_queryset
from .selectors_findings import INBOX_FILTERS, submissions_for_inbox

__all__ = ["Dashboard", "Section", "dashboard_for"]

# How many rows each section lists; its count covers them all.
SECTION_ROWS = 5
ACTIVITY_ROWS = 6


@dataclass(frozen=True)
class Section:
    count: int = 0
    items: list[Any] = field(default_factory=list)
    # Why the section is closed to this user (e.g. unverified), shown instead.
    blocked: str = ""

    @property
    def more(self) -> int:
        """Rows counted but not listed."""
        return max(0, self.count - len(self.items))


@dataclass(frozen=True)
class Dashboard:
    consults_waiting: Section
    consults_overdue: int
    consults_answered: Section
    inbox_unread: Section
    mentions: Section
    drafts: Section
    recent_activity: list[Case]
    colleagues_cases: list[Case]
    verification_pending: int | None  # staff only

    @property
    def waiting_total(self) -> int:
        """Everything that needs the user now, for the page's summary line."""
        return (
            self.consults_waiting.count
            + self.consults_answered.count
            + self.inbox_unread.count
            + self.mentions.count
        )


def _section(queryset: QuerySet, rows: int = SECTION_ROWS) -> Section:
    items = list(queryset[:rows])
    # A short first page is the whole set: no count query needed.
    count = len(items) if len(items) < rows else queryset.order_by().count()
    return Section(count=count, items=items)


def _case_rows(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What ``cases/_case_row.html`` reads, and nothing more."""
    return cases.select_related("specialty").only(
        "pk",
        "title",
        "status",
        "age_band",
        "published_at",
        "updated",
        "specialty__name",
    )


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
    return _section(
        ConsultRequest.objects.select_related("case", "specialty", "assignee")
        .filter(requested_by=user, status=ConsultRequest.Status.ANSWERED)
        .order_by("-answered_at", "-id")
    )


def _inbox_unread(user: User) -> Section:
    if not user.is_clinician:
        return Section()
    if not user.is_verified_clinician:
        # As on the inbox page: the count, never what a patient sent.
        count = Submission.objects.filter(
            INBOX_FILTERS["unread"], clinician=user
        ).count()
        return Section(count=count, blocked=VERIFICATION_NEEDED)
    return _section(submissions_for_inbox(user, show="unread"))


def _mentions(user: User) -> Section:
    return _section(
        Notification.objects.filter(
            user=user, kind=Notification.Kind.MENTION, read_at__isnull=True
        ).order_by("-created", "-id")
    )


def _drafts(user: User) -> Section:
    editing = CaseParticipant.objects.filter(user=user, role__in=EDIT_ROLES)
    return _section(
        _case_rows(
            cases_visible_to(user)
            .filter(status=Case.Status.DRAFT)
            .filter(Q(owner=user) | Q(pk__in=editing.values("case_id")))
            .order_by("-updated", "-pk")
        )
    )


def _recent_activity(user: User) -> list[Case]:
    mine = CaseParticipant.objects.filter(user=user).values("case_id")
    return list(
        _case_rows(
            cases_visible_to(user)
            .filter(status__in=OPEN_STATUSES)
            .filter(Q(owner=user) | Q(pk__in=mine))
            .order_by("-updated", "-pk")
        )[:ACTIVITY_ROWS]
    )


def _colleagues_cases(user: User, exclude: list[int]) -> list[Case]:
    """Colleagues' newest published cases the user is not already part of."""
    if not user.is_verified_clinician:
        return []
    mine = CaseParticipant.objects.filter(user=user).values("case_id")
    return list(
        _case_rows(
            cases_visible_to(user)
            .filter(status=Case.Status.PUBLISHED)
            .exclude(owner=user)
            .exclude(pk__in=mine)
            .exclude(pk__in=exclude)
            .order_by("-published_at", "-pk")
        )[:ACTIVITY_ROWS]
    )


def verification_queue_count() -> int:
    """Clinicians waiting for staff to check their registration."""
    return ClinicianProfile.objects.filter(
        verification=ClinicianProfile.Verification.PENDING
    ).count()


def dashboard_for(user: User) -> Dashboard:
    """The signed-in clinician's (or staff member's) dashboard, in a fixed
    number of queries whatever the number of rows."""
    waiting, overdue = _consults_waiting(user)
    recent = _recent_activity(user)
    return Dashboard(
        consults_waiting=waiting,
        consults_overdue=overdue,
        consults_answered=_consults_answered(user),
        inbox_unread=_inbox_unread(user),
        mentions=_mentions(user),
        drafts=_drafts(user),
        recent_activity=recent,
        colleagues_cases=_colleagues_cases(user, [c.pk for c in recent]),
        verification_pending=verification_queue_count() if user.is_staff else None,
    )
