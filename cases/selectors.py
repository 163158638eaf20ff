"""Read queries for cases that enforce visibility. Views and consumers use these."""

from __future__ import annotations

from django.db import models
from django.db.models import F, QuerySet, TextChoices, Value, When
from django.http import Http404

from cases.models import Case, CaseParticipant
from cases.permissions import OPEN_STATUSES, CaseAccess, case_access, visible_cases_q
from workspace.models import Membership, Specialty, User


def cases_visible_to(user: User) -> QuerySet[Case]:
    return Case.objects.filter(visible_cases_q(user))


def case_get_for(user: User, pk: int) -> tuple[Case, CaseAccess]:
    """The case and the user's access to it; 404 when it is not theirs to see.

    A case the user may not see answers exactly like one that does not exist,
    so ids never leak.
    """
    case = (
        Case.objects.select_related(
            "owner", "owner__clinician_profile", "workspace", "specialty", "attested_by"
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    access = case_access(user, case)
    if not access.can_view:
        raise Http404("No such case.")
    return case, access


# --- Feeds ----------------------------------------------------------------------------


class Feed(TextChoices):
    ALL = "all", "All cases"
    MINE = "mine", "My cases"
    SHARED = "shared", "Shared with me"
    WORKSPACE = "workspace", "Workspaces"
    COMMUNITY = "community", "Community"


def cases_feed(user: User, feed: str = Feed.ALL) -> QuerySet[Case]:
    """The cases of one feed, all visible to ``user``, archived ones excluded.

    - mine: cases ``user`` owns, in any status but archived;
    - shared: cases others own in which ``user`` is a participant;
    - workspace: published or resolved workspace cases of ``user``'s workspaces;
    - community: published or resolved community cases;
    - all: everything visible.
    """
    cases = cases_visible_to(user)
    if feed == Feed.MINE:
        cases = cases.filter(owner=user)
    elif feed == Feed.SHARED:
        cases = cases.filter(
            pk__in=CaseParticipant.objects.filter(user=user).values("case_id")
        ).exclude(owner=user)
    elif feed == Feed.WORKSPACE:
        cases = cases.filter(
            visibility=Case.Visibility.WORKSPACE,
            status__in=OPEN_STATUSES,
            workspace_id__in=Membership.objects.filter(user=user).values(
                "workspace_id"
            ),
        )
    elif feed == Feed.COMMUNITY:
        cases = cases.filter(
            visibility=Case.Visibility.COMMUNITY, status__in=OPEN_STATUSES
        )
    return cases


def cases_filter(
    cases: QuerySet[Case],
    *,
    specialty: Specialty | None = None,
    tag: str = "",
    status: str = "",
    age_band: str = "",
) -> QuerySet[Case]:
    """Narrow a feed; archived cases appear only when ``status`` asks for them.

    ``tag`` is a tag slug.
    """
    if specialty is not None:
        cases = cases.filter(specialty=specialty)
    if tag:
        cases = cases.filter(tags__slug=tag)
    if status:
        cases = cases.filter(status=status)
    else:
        cases = cases.exclude(status=Case.Status.ARCHIVED)
    if age_band:
        cases = cases.filter(age_band=age_band)
    return cases


def cases_for_cards(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What a list of case cards reads, in a fixed number of queries."""
    return (
        cases.select_related("owner", "specialty", "workspace")
        .prefetch_related("tags")
        .defer(
            "history",
            "examination",
            "investigations",
            "working_notes",
            "rendered",
            "phi_scan",
            "phi_dismissed",
            "deid_attestation",
        )
    )


def cases_newest_first(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Most recently published first; drafts by last edit, after them."""
    return cases.order_by(F("published_at").desc(nulls_last=True), "-updated", "-pk")


def case_participants(case: Case) -> QuerySet[CaseParticipant]:
    """The case's participants, owner first, with what their badges need."""
    role_order = models.Case(
        *(
            When(role=role, then=Value(i))
            for i, role in enumerate(CaseParticipant.Role.values)
        ),
        output_field=models.IntegerField(),
    )
    return (
        CaseParticipant.objects.filter(case=case)
        .select_related("user", "user__clinician_profile")
        .order_by(role_order, "created")
    )
