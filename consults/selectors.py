"""Read queries for consults, and who may do what with one."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from cases.models import Case, CaseParticipant
from cases.permissions import CaseAccess, case_access
from consults.models import ConsultRequest
from workspace.models import Specialty, User

__all__ = [
    "ConsultAccess",
    "consult_access",
    "consult_get_for",
    "consultant_still_needed",
    "consults_for_case",
    "consults_for_queue",
    "consults_queue_queryset",
    "consults_requested_by",
    "is_consultant",
    "specialty_ids_of",
]


@dataclass(frozen=True)
class ConsultAccess:
    """What one user may do with one consult, given its current state."""

    can_view: bool = False
    can_view_case: bool = False
    is_requester: bool = False
    is_assignee: bool = False
    is_eligible: bool = False  # may take it: verified, right specialty or named
    manages_case: bool = False  # the case owner
    can_accept: bool = False
    can_decline: bool = False
    can_answer: bool = False
    can_close: bool = False
    can_keep: bool = False
    can_cancel: bool = False

    @property
    def can_act(self) -> bool:
        return any(
            (
                self.can_accept,
                self.can_decline,
                self.can_answer,
                self.can_close,
                self.can_cancel,
            )
        )


def specialty_ids_of(user: User) -> set[int]:
    """The specialties a clinician declared (empty for everyone else)."""
    if not user.is_authenticated or not user.is_clinician:
        return set()
    return set(
        Specialty.objects.filter(clinicians__user=user).values_list("pk", flat=True)
    )


def consult_access(
    user: User,
    consult: ConsultRequest,
    *,
    case_acc: CaseAccess | None = None,
    specialty_ids: set[int] | None = None,
) -> ConsultAccess:
    """The consult rules, in one place; services re-check them under a lock.

    - Anyone who can see the case sees its consults. The named or accepting
      specialist sees the consult itself (not the whole case) for good; a
      specialist eligible for a pending specialty-wide request sees it while
      it waits.
    - Only verified clinicians take consults, never the requester: the named
      specialist, or for a specialty-wide request anyone with that specialty.
    - The specialist accepts or declines a request, and answers (or declines)
      once accepted. The requester or the case owner cancels an open consult
      and closes an answered one; only the owner may keep the specialist on.
    """
    if not user.is_authenticated or not user.is_clinician:
        return ConsultAccess()
    if case_acc is None:
        case_acc = case_access(user, consult.case)
    S = ConsultRequest.Status
    is_requester = consult.requested_by_id == user.pk
    is_assignee = consult.assignee_id == user.pk
    if consult.assignee_id:
        named = is_assignee
    else:
        if specialty_ids is None:
            specialty_ids = specialty_ids_of(user)
        named = consult.specialty_id in specialty_ids
    eligible = user.is_verified_clinician and not is_requester and named
    waiting = consult.status == S.REQUESTED
    can_view = case_acc.can_view or is_assignee or (eligible and waiting)
    if not can_view:
        return ConsultAccess()
    manages = case_acc.can_manage
    can_close = consult.status == S.ANSWERED and (is_requester or manages)
    return ConsultAccess(
        can_view=True,
        can_view_case=case_acc.can_view,
        is_requester=is_requester,
        is_assignee=is_assignee,
        is_eligible=eligible,
        manages_case=manages,
        can_accept=eligible and waiting,
        can_decline=eligible and (waiting or consult.status == S.ACCEPTED),
        can_answer=eligible and is_assignee and consult.status == S.ACCEPTED,
        can_close=can_close,
        can_keep=can_close and manages and consult.granted_access,
        can_cancel=consult.status in ConsultRequest.OPEN_STATUSES
        and (is_requester or manages),
    )


def _consults() -> QuerySet[ConsultRequest]:
    return ConsultRequest.objects.select_related(
        "case", "specialty", "requested_by", "assignee"
    )


def _urgency_order() -> CaseWhen:
    return CaseWhen(
        *(
            When(urgency=urgency, then=Value(rank))
            for urgency, rank in ConsultRequest.URGENCY_RANK.items()
        ),
        default=Value(9),
        output_field=IntegerField(),
    )


def consults_queue_queryset(user: User) -> QuerySet[ConsultRequest]:
    """The queue of ``consults_for_queue`` as a queryset, most urgent first,
    then earliest due (one query for the specialties). Callers check that
    ``user`` is a verified clinician."""
    S = ConsultRequest.Status
    specialties = specialty_ids_of(user)
    waiting_for_me = Q(status=S.REQUESTED) & (
        Q(assignee=user) | Q(assignee__isnull=True, specialty_id__in=specialties)
    )
    mine = Q(status=S.ACCEPTED, assignee=user)
    return (
        _consults()
        .filter(waiting_for_me | mine)
        .exclude(requested_by=user)
        .annotate(urgency_order=_urgency_order())
        .order_by("urgency_order", "due_at", "id")
    )


def consults_for_queue(user: User) -> list[ConsultRequest]:
    """A specialist's work: open requests for their specialties or addressed to
    them, and the consults they accepted and have not answered yet.

    Most urgent first, then earliest due; each consult carries ``overdue``.
    Unverified clinicians get an empty queue (they cannot take consults).
    Three queries whatever the queue's length.
    """
    if not user.is_authenticated or not user.is_verified_clinician:
        return []
    consults = list(consults_queue_queryset(user))
    now = timezone.now()
    for consult in consults:
        consult.overdue = consult.due_at < now
    return consults


def consults_requested_by(user: User, *, limit: int = 30) -> list[ConsultRequest]:
    """Consults the user asked for: open and answered first, then the rest."""
    if not user.is_authenticated or not user.is_clinician:
        return []
    S = ConsultRequest.Status
    consults = list(
        _consults()
        .filter(requested_by=user)
        .annotate(
            state_order=CaseWhen(
                When(status=S.ANSWERED, then=Value(0)),
                When(status__in=ConsultRequest.OPEN_STATUSES, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("state_order", "-created", "-id")[:limit]
    )
    now = timezone.now()
    for consult in consults:
        consult.overdue = consult.is_open and consult.due_at < now
    return consults


def consults_for_case(case: Case) -> list[ConsultRequest]:
    """Every consult on a case, open ones first, each with its answer and the
    answering specialist's specialties: three queries however many consults.
    Callers have already established that the viewer can see the case."""
    consults = list(
        _consults()
        .filter(case=case)
        .prefetch_related("assignee__clinician_profile__specialties")
        .annotate(
            open_order=CaseWhen(
                When(status__in=ConsultRequest.OPEN_STATUSES, then=Value(0)),
                When(status=ConsultRequest.Status.ANSWERED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("open_order", "-created", "-id")
    )
    now = timezone.now()
    for consult in consults:
        consult.overdue = consult.is_open and consult.due_at < now
        consult.answer_specialty = _answer_specialty(consult)
    return consults


def _answer_specialty(consult: ConsultRequest) -> str:
    """The specialty an answer speaks for: the one asked, else the
    specialist's own (prefetched, so no query)."""
    if consult.specialty_id:
        return consult.specialty.name
    profile = getattr(consult.assignee, "clinician_profile", None)
    if profile is None:
        return ""
    return ", ".join(sorted(s.name for s in profile.specialties.all()))


def consult_get_for(user: User, pk: int) -> tuple[ConsultRequest, ConsultAccess]:
    """The consult and what ``user`` may do with it; 404 when not theirs to see."""
    consult = (
        _consults()
        .select_related("case__owner", "case__specialty")
        .prefetch_related("events__actor")
        .filter(pk=pk)
        .first()
    )
    if consult is None:
        raise Http404("No such consult.")
    access = consult_access(user, consult)
    if not access.can_view:
        raise Http404("No such consult.")
    return consult, access


def consultant_still_needed(case: Case, user: User, *, excluding: int) -> bool:
    """Whether another active consult keeps ``user`` on ``case`` as consultant."""
    return (
        ConsultRequest.objects.filter(
            case=case,
            assignee=user,
            status__in=ConsultRequest.ACTIVE_STATUSES,
            granted_access=True,
        )
        .exclude(pk=excluding)
        .exists()
        or ConsultRequest.objects.filter(
            case=case, assignee=user, kept_as_consultant=True
        ).exists()
    )


def is_consultant(case: Case, user: User) -> bool:
    return CaseParticipant.objects.filter(
        case=case, user=user, role=CaseParticipant.Role.CONSULTANT
    ).exists()
