"""Read queries for differentials and consults, and the access rules of consults.

Consensus arithmetic (one entry's votes ``v₁ … vₙ``, each 0–100):

- ``mean`` is the arithmetic mean, rounded to one decimal.
- ``spread`` is the population standard deviation, rounded to one decimal:
  how far the people who voted disagree, not an estimate for some wider
  population (so one vote has spread 0). It was chosen over the IQR because
  a case rarely gathers more than a handful of votes, and quartiles of three
  numbers say little.
- ``voters`` is ``n``; with no votes ``mean`` and ``spread`` are ``None``.
- The proposer's estimate is the proposer's own current vote on the entry.

The ranking orders confirmed entries first and ruled-out ones last; within
each group, by mean (highest first, unvoted entries after voted ones), then by
the working order (``position``) the owner and collaborators curate. Votes are
shown only in aggregate, except each viewer's own vote and the proposer's
estimate.

Independent mode (``Case.independent``): until a viewer has submitted their
own round (:class:`~cases.models.DifferentialRound`), or the owner revealed
the consensus, or the case is resolved, :func:`consensus_hidden` is true for
them and every surface shows them the entries in working order with only
their own votes: no mean, spread, voter count, proposer's estimate, pooled
score or consensus order (:meth:`RankedDifferential.as_blind_payload`).

Pooled ranking (independent cases): a Borda count over the submitted
rounds. In each round the entries the voter rated are ranked by their
likelihood; with ``k`` rated entries the first gets ``k`` points, the next
``k − 1`` … the last 1, tied entries sharing the average of their places'
points. ``pooled`` is the sum over rounds; ``pooled_rank`` orders entries
by it (ties share the better rank). It is shown beside mean ± SD, which
keeps using everyone's current votes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from workspace.models import Specialty, User

from .models import (
    Case,
    CaseParticipant,
    ConsultRequest,
    Differential,
    DifferentialRound,
    DifferentialVote,
    RankingSnapshot,
)
from .permissions import CaseAccess, case_access
from .selectors_findings import findings_for_case

__all__ = [
    "ConsultAccess",
    "RankedDifferential",
    "blind_payload",
    "borda",
    "consensus",
    "consensus_hidden",
    "consult_access",
    "consult_get_for",
    "consults_for_case",
    "consults_for_queue",
    "consults_queue_queryset",
    "consults_requested_by",
    "differential_ranking",
    "ranking_history",
    "ranking_payload",
    "round_voters",
    "specialty_ids_of",
]

STATUS_GROUP = {
    Differential.Status.CONFIRMED: 0,
    Differential.Status.CONSIDERED: 1,
    Differential.Status.RULED_OUT: 2,
}
TREND_POINTS = 20


# --- Differentials ------------------------------------------------------------------


def consensus(values: list[int]) -> tuple[float | None, float | None]:
    """(mean, spread) of likelihood votes; see the module docstring."""
    if not values:
        return None, None
    return round(statistics.fmean(values), 1), round(statistics.pstdev(values), 1)


@dataclass
class RankedDifferential:
    differential: Differential
    rank: int
    mean: float | None
    spread: float | None
    voters: int
    proposer_estimate: int | None
    my_vote: int | None = None
    pooled: float | None = None
    pooled_rank: int | None = None
    trend: list[float] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.differential.pk

    @property
    def band(self) -> tuple[float, float]:
        """(x, width) of the mean ± spread band on a 0–100 scale, clipped."""
        if self.mean is None:
            return 0.0, 0.0
        low = max(0.0, self.mean - (self.spread or 0))
        high = min(100.0, self.mean + (self.spread or 0))
        return round(low, 1), round(high - low, 1)

    @property
    def trend_points(self) -> str:
        """SVG polyline points (100×24 box) for the mean over recent history."""
        if len(set(self.trend)) < 2:  # a flat line says nothing
            return ""
        step = 100 / (len(self.trend) - 1)
        return " ".join(
            f"{i * step:.1f},{24 - value * 0.24:.1f}"
            for i, value in enumerate(self.trend)
        )

    def as_payload(self) -> dict[str, Any]:
        d = self.differential
        return {
            "id": d.pk,
            "label": d.label,
            "icd10": d.icd10_code,
            "rationale": d.rationale,
            "status": d.status,
            "position": d.position,
            "rank": self.rank,
            "mean": self.mean,
            "spread": self.spread,
            "voters": self.voters,
            "proposer": _person(d.proposed_by),
            "proposer_estimate": self.proposer_estimate,
            "pooled": self.pooled,
            "pooled_rank": self.pooled_rank,
            "consult": d.consult_id,
            "decided_by": _person(d.decided_by),
            "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        }

    def as_blind_payload(self) -> dict[str, Any]:
        """The entry without anything that reveals others' votes (for people
        who have not submitted their independent round). ``rank`` is the
        working position, since the consensus order would give it away."""
        return {
            **self.as_payload(),
            "mean": None,
            "spread": None,
            "voters": None,
            "proposer_estimate": None,
            "pooled": None,
            "pooled_rank": None,
        }

    def as_snapshot(self) -> dict[str, Any]:
        d = self.differential
        return {
            "id": d.pk,
            "label": d.label,
            "status": d.status,
            "rank": self.rank,
            "mean": self.mean,
            "spread": self.spread,
            "voters": self.voters,
        }


def borda(rounds: list[dict[int, int]]) -> dict[int, float]:
    """Borda points per entry id over rounds of likelihoods (module docstring)."""
    points: dict[int, float] = defaultdict(float)
    for likelihoods in rounds:
        ordered = sorted(likelihoods.items(), key=lambda kv: -kv[1])
        k = len(ordered)
        i = 0
        while i < k:
            j = i
            while j + 1 < k and ordered[j + 1][1] == ordered[i][1]:
                j += 1
            # Places i..j (0-based) are worth k-i … k-j points; share the mean.
            share = sum(k - place for place in range(i, j + 1)) / (j - i + 1)
            for pk, _ in ordered[i : j + 1]:
                points[pk] += share
            i = j + 1
    return dict(points)


def consensus_hidden(
    case: Case, user: User | None, submitted: Collection[int] | None = None
) -> bool:
    """Whether ``user`` must not see others' votes or the consensus yet.

    ``submitted`` (the ids of voters with a round) saves the query when known.
    """
    if not case.independent or case.consensus_revealed_at is not None:
        return False
    if case.status == Case.Status.RESOLVED:
        return False
    if user is None:
        return True
    if submitted is None:
        return not DifferentialRound.objects.filter(case=case, voter=user).exists()
    return user.pk not in submitted


def round_voters(case: Case) -> list[int]:
    """Ids of the voters who submitted their independent round (one query)."""
    return list(
        DifferentialRound.objects.filter(case=case)
        .order_by("submitted", "id")
        .values_list("voter_id", flat=True)
    )


def _person(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user else None


def differential_ranking(
    case: Case,
    *,
    user: User | None = None,
    with_trend: bool = False,
    with_findings: bool = False,
) -> list[RankedDifferential]:
    """The case's consensus ranking (see the module docstring).

    Two queries (entries with their people, then all their votes), plus one
    for the trend when ``with_trend`` and one for patient findings when
    ``with_findings`` (as ``cases.selectors_findings`` lets participants see
    them); the count does not grow with entries, votes or findings.
    """
    entries = list(
        Differential.objects.filter(case=case)
        .select_related("proposed_by", "decided_by")
        .prefetch_related(
            Prefetch("votes", queryset=DifferentialVote.objects.order_by())
        )
    )
    findings = findings_for_case(case) if with_findings and entries else {}
    ranked: list[RankedDifferential] = []
    for d in entries:
        votes = list(d.votes.all())
        mean, spread = consensus([v.likelihood for v in votes])
        proposer = next(
            (v.likelihood for v in votes if v.voter_id == d.proposed_by_id), None
        )
        mine = (
            next((v.likelihood for v in votes if v.voter_id == user.pk), None)
            if user is not None
            else None
        )
        ranked.append(
            RankedDifferential(
                differential=d,
                rank=0,
                mean=mean,
                spread=spread,
                voters=len(votes),
                proposer_estimate=proposer,
                my_vote=mine,
                findings=findings.get(d.pk, []),
            )
        )
    ranked.sort(
        key=lambda r: (
            STATUS_GROUP[r.differential.status],
            r.mean is None,
            -(r.mean or 0),
            r.differential.position,
            r.differential.pk,
        )
    )
    for i, r in enumerate(ranked, start=1):
        r.rank = i
    if case.independent and ranked:
        _attach_pooled(case, ranked)
    if with_trend and ranked:
        _attach_trend(case, ranked)
    return ranked


def _attach_pooled(case: Case, ranked: list[RankedDifferential]) -> None:
    rounds = [
        {int(pk): int(v) for pk, v in likelihoods.items()}
        for likelihoods in DifferentialRound.objects.filter(case=case).values_list(
            "likelihoods", flat=True
        )
    ]
    if not rounds:
        return
    points = borda(rounds)
    for r in ranked:
        r.pooled = round(points.get(r.id, 0.0), 1)
    for r in ranked:
        r.pooled_rank = 1 + sum(
            1 for other in ranked if (other.pooled or 0) > (r.pooled or 0)
        )


def _attach_trend(case: Case, ranked: list[RankedDifferential]) -> None:
    snapshots = list(
        RankingSnapshot.objects.filter(case=case)
        .order_by("-id")
        .values_list("ranking", flat=True)[:TREND_POINTS]
    )
    series: dict[int, list[float]] = defaultdict(list)
    for ranking in reversed(snapshots):
        for row in ranking:
            if row.get("mean") is not None:
                series[row["id"]].append(row["mean"])
    for r in ranked:
        r.trend = series.get(r.id, [])


def ranking_payload(ranked: list[RankedDifferential]) -> list[dict[str, Any]]:
    return [r.as_payload() for r in ranked]


def blind_payload(ranked: list[RankedDifferential]) -> list[dict[str, Any]]:
    """The ranking as people who have not submitted may see it: working order."""
    ordered = sorted(ranked, key=lambda r: (r.differential.position, r.id))
    return [{**r.as_blind_payload(), "rank": i} for i, r in enumerate(ordered, 1)]


def ranking_history(case: Case, *, limit: int = 10) -> list[RankingSnapshot]:
    """The most recent ranking snapshots, newest first (one query)."""
    return list(
        RankingSnapshot.objects.filter(case=case)
        .select_related("actor")
        .order_by("-id")[:limit]
    )


# --- Consults -----------------------------------------------------------------------


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
    """Every consult on a case, open ones first (one query). Callers have
    already established that the viewer can see the case."""
    consults = list(
        _consults()
        .filter(case=case)
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
    return consults


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
