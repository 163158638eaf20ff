"""What the dashboard shows a clinician: the work waiting for them, then news.

Each task section is a ``Section``: how many rows match and the first few of
them, so the page says "7 consults waiting" while listing only the most
pressing. Every section costs one count query and one list query (two for
cases' owners), whatever the number of rows; visibility comes from the
selectors each section is built on:

- the feature apps' sections, from their ``dashboard.py``
  (:func:`cases.panels.contributions`): consults waiting and answered
  (``consults/dashboard.py``), the unread inbox (``portal/dashboard.py``);
- mentions: the user's own unread ``Notification`` rows of kind mention;
- drafts: drafts ``user`` may edit (owner or collaborator), from
  ``cases_visible_to``;
- recent activity: non-archived cases ``user`` owns or takes part in, most
  recently changed first, and colleagues' newest published cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from cases.models import Case, CaseParticipant
from cases.panels import contributions
from cases.permissions import EDIT_ROLES, OPEN_STATUSES
from cases.selectors import cases_visible_to
from workspace.models import ClinicianProfile, Notification, User

__all__ = ["SECTION_ROWS", "Dashboard", "Section", "dashboard_for", "section_of"]

# How many rows each section lists; its count covers them all.
SECTION_ROWS = 5
ACTIVITY_ROWS = 6


@dataclass(frozen=True)
class Section:
    count: int = 0
    items: list[Any] = field(default_factory=list)
    # Why the section is closed to this user (e.g. unverified), shown instead.
    blocked: str = ""
    # Whether its rows wait for the user (counted in the page's summary line).
    waiting: bool = True

    @property
    def more(self) -> int:
        """Rows counted but not listed."""
        return max(0, self.count - len(self.items))


@dataclass(frozen=True)
class Dashboard:
    mentions: Section
    drafts: Section
    recent_activity: list[Case]
    colleagues_cases: list[Case]
    verification_pending: int | None  # staff only
    # The feature apps' sections by name (``consults_waiting``, ...), read as
    # attributes like the fields above.
    features: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["features"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def waiting_total(self) -> int:
        """Everything that needs the user now, for the page's summary line."""
        return self.mentions.count + sum(
            section.count
            for section in self.features.values()
            if isinstance(section, Section) and section.waiting
        )


def section_of(queryset: QuerySet, rows: int = SECTION_ROWS) -> Section:
    """The first ``rows`` of ``queryset`` and how many there are in all."""
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


def _mentions(user: User) -> Section:
    return section_of(
        Notification.objects.filter(
            user=user, kind=Notification.Kind.MENTION, read_at__isnull=True
        ).order_by("-created", "-id")
    )


def _drafts(user: User) -> Section:
    editing = CaseParticipant.objects.filter(user=user, role__in=EDIT_ROLES)
    return section_of(
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
    recent = _recent_activity(user)
    features: dict[str, Any] = {}
    for sections in contributions("dashboard", "sections"):
        features.update(sections(user))
    return Dashboard(
        features=features,
        mentions=_mentions(user),
        drafts=_drafts(user),
        recent_activity=recent,
        colleagues_cases=_colleagues_cases(user, [c.pk for c in recent]),
        verification_pending=verification_queue_count() if user.is_staff else None,
    )
