"""Read queries for differentials, and their consensus arithmetic.

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
own round (:class:`~diagnoses.models.DifferentialRound`), or the owner revealed
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

from django.db.models import Prefetch

from cases.models import Case
from diagnoses.models import (
    Differential,
    DifferentialRound,
    DifferentialVote,
    RankingSnapshot,
)
from workspace.models import User

__all__ = [
    "RankedDifferential",
    "blind_payload",
    "borda",
    "consensus",
    "consensus_hidden",
    "differential_ranking",
    "ranking_history",
    "ranking_payload",
    "round_voters",
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
) -> list[RankedDifferential]:
    """The case's consensus ranking (see the module docstring).

    Two queries (entries with their people, then all their votes), plus one
    for the trend when ``with_trend``; the count does not grow with entries
    or votes. Patient findings on the entries are the portal's to show
    (``{% entry_findings %}`` in ``portal/templatetags/portal.py``).
    """
    entries = list(
        Differential.objects.filter(case=case)
        .select_related("proposed_by", "decided_by")
        .prefetch_related(
            Prefetch("votes", queryset=DifferentialVote.objects.order_by())
        )
    )
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
