"""Scoring clinicians' likelihoods against a resolved case's confirmed diagnosis.

When a case is resolved with a confirmed differential entry, every voter is
scored over the entries they rated (outcome 1 for the confirmed entry, 0 for
every other; likelihood / 100 as the forecast):

- Brier score: mean of ``(p − o)²`` over those entries. 0 is perfect, 1 the
  worst; always answering 50 scores 0.25.
- Log score: mean of ``ln(p)`` for the confirmed entry and ``ln(1 − p)`` for
  the others, with ``p`` clipped to [0.01, 0.99] so one certain miss is
  finite. 0 is perfect; higher (closer to 0) is better.
- Top-1: the confirmed entry had the voter's strictly highest likelihood.

A voter who rated entries but not the confirmed one is scored as if they had
given it 0: their differential missed it. The likelihoods scored are the
ones locked in by the voter's independent round when they submitted one
(entries still on the list), otherwise their current votes.

Idempotent: :func:`case_scores_compute` replaces the case's scores, so
resolving again (after un-confirming) never counts a case twice, and
:func:`case_scores_clear` removes them when the confirmed entry is
reconsidered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction

from cases.models import Case
from diagnoses.models import (
    DiagnosisScore,
    Differential,
    DifferentialRound,
    DifferentialVote,
    TrackRecordPreference,
)
from workspace import audit
from workspace.models import User

__all__ = [
    "LOG_CLIP",
    "brier_score",
    "case_scores_clear",
    "case_scores_compute",
    "log_score",
    "score_forecasts",
    "track_record_show_set",
]

LOG_CLIP = 0.01


def brier_score(forecasts: list[tuple[float, int]]) -> float:
    """Mean squared difference between forecast (0–1) and outcome (0/1)."""
    if not forecasts:
        raise ValueError("Nothing to score.")
    return sum((p - o) ** 2 for p, o in forecasts) / len(forecasts)


def log_score(forecasts: list[tuple[float, int]]) -> float:
    """Mean log-likelihood of the outcomes, forecasts clipped to [0.01, 0.99]."""
    if not forecasts:
        raise ValueError("Nothing to score.")
    total = 0.0
    for p, o in forecasts:
        p = min(1 - LOG_CLIP, max(LOG_CLIP, p))
        total += math.log(p if o else 1 - p)
    return total / len(forecasts)


def score_forecasts(
    likelihoods: Mapping[int, int], confirmed_id: int
) -> tuple[list[tuple[float, int]], bool]:
    """(forecasts, top1) for one voter's likelihoods (entry id → 0–100)."""
    rated = dict(likelihoods)
    rated.setdefault(confirmed_id, 0)
    forecasts = [
        (value / 100, 1 if pk == confirmed_id else 0)
        for pk, value in sorted(rated.items())
    ]
    best = rated[confirmed_id]
    top1 = best > 0 and all(v < best for pk, v in rated.items() if pk != confirmed_id)
    return forecasts, top1


def case_scores_clear(case: Case) -> int:
    deleted, _ = DiagnosisScore.objects.filter(case=case).delete()
    return deleted


def case_scores_compute(case: Case) -> list[DiagnosisScore]:
    """Score every voter on ``case`` against its confirmed entry (replacing
    earlier scores). Nothing is scored without a confirmed entry. Call inside
    the resolving transaction; four queries whatever the number of voters."""
    confirmed = Differential.objects.filter(
        case=case, status=Differential.Status.CONFIRMED
    ).first()
    case_scores_clear(case)
    if confirmed is None:
        return []
    entry_ids = set(Differential.objects.filter(case=case).values_list("pk", flat=True))
    by_voter: dict[int, dict[int, int]] = defaultdict(dict)
    for voter_id, entry_id, value in DifferentialVote.objects.filter(
        differential__case=case
    ).values_list("voter_id", "differential_id", "likelihood"):
        by_voter[voter_id][entry_id] = value
    independent: set[int] = set()
    for r in DifferentialRound.objects.filter(case=case):
        locked = {
            int(pk): int(v) for pk, v in r.likelihoods.items() if int(pk) in entry_ids
        }
        if locked:
            by_voter[r.voter_id] = locked
            independent.add(r.voter_id)
    scores = []
    for voter_id, likelihoods in sorted(by_voter.items()):
        if not likelihoods:
            continue
        forecasts, top1 = score_forecasts(likelihoods, confirmed.pk)
        scores.append(
            DiagnosisScore(
                user_id=voter_id,
                case=case,
                specialty_id=case.specialty_id,
                confirmed=confirmed,
                brier=round(brier_score(forecasts), 6),
                log_score=round(log_score(forecasts), 6),
                entries=len(forecasts),
                top1=top1,
                independent=voter_id in independent,
                forecasts=[[round(p, 4), o] for p, o in forecasts],
            )
        )
    return DiagnosisScore.objects.bulk_create(scores)


@transaction.atomic
def track_record_show_set(
    *, user: User, shown: bool, ip: str | None = None
) -> TrackRecordPreference:
    """Show (or hide again) ``user``'s track record to colleagues; audited."""
    preference, _ = TrackRecordPreference.objects.update_or_create(
        user=user, defaults={"shown": shown}
    )
    audit.record(
        actor=user,
        verb="track_record.show" if shown else "track_record.hide",
        target=user,
        ip=ip,
    )
    return preference
