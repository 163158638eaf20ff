"""Likelihood votes, and independent mode: each voter's locked-in round, the
reveal of the consensus, and turning the mode on or off.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from diagnoses.models import Differential, DifferentialRound, DifferentialVote
from diagnoses.services._common import (
    _announce,
    _audit,
    _check_likelihood,
    _check_writable,
    _lock_case,
    _lock_entry,
)
from workspace.models import User
from workspace.services import ServiceError, require


@transaction.atomic
def differential_vote(
    *,
    differential: Differential,
    by: User,
    likelihood: int | None,
    voter: User | None = None,
    ip: str | None = None,
) -> DifferentialVote | None:
    """Record (or change) ``by``'s likelihood for an entry; ``None`` withdraws it.

    ``voter`` exists only to make the rule explicit: it must be ``by``, since
    nobody votes on someone else's behalf. Returns the vote, or None when
    withdrawn.
    """
    require(
        voter is None or voter.pk == by.pk,
        "You can only record your own vote.",
    )
    case, entry = _lock_entry(differential)
    require(
        case_access(by, case).can_vote,
        "Only the case's owner, collaborators and consultants vote.",
    )
    _check_writable(case)
    if not entry.is_considered:
        raise ServiceError(
            f"“{entry.label}” is {entry.get_status_display().lower()}; "
            "reconsider it before voting."
        )
    if likelihood is None:
        deleted, _ = DifferentialVote.objects.filter(
            differential=entry, voter=by
        ).delete()
        if not deleted:
            return None
        vote = None
        _audit(by, "differential.vote_withdraw", entry, ip)
        summary = f"{by.display_name} withdrew their vote on {entry.label}"
    else:
        _check_likelihood(likelihood)
        vote, _ = DifferentialVote.objects.update_or_create(
            differential=entry, voter=by, defaults={"likelihood": likelihood}
        )
        _audit(by, "differential.vote", entry, ip, likelihood=likelihood)
        summary = f"{by.display_name} voted on {entry.label}"
    _announce(case, by, "vote", summary, entry)
    return vote


# --- Independent mode ---------------------------------------------------------------


@transaction.atomic
def differential_round_submit(
    *, case: Case, by: User, ip: str | None = None
) -> DifferentialRound:
    """Lock in ``by``'s differential on an independent case: their current
    likelihoods, timestamped. Once only; afterwards they see the consensus
    (votes stay editable, but the round, which the pooled ranking and the
    track record use, does not change)."""
    case = _lock_case(case)
    require(
        case_access(by, case).can_vote,
        "Only the case's owner, collaborators and consultants submit a differential.",
    )
    _check_writable(case)
    if not case.independent:
        raise ServiceError("This case does not use independent differentials.")
    if DifferentialRound.objects.filter(case=case, voter=by).exists():
        raise ServiceError("You already submitted your differential on this case.")
    likelihoods = {
        str(pk): value
        for pk, value in DifferentialVote.objects.filter(
            differential__case=case,
            differential__status=Differential.Status.CONSIDERED,
            voter=by,
        ).values_list("differential_id", "likelihood")
    }
    if not likelihoods:
        raise ServiceError(
            "Give at least one diagnosis a likelihood before submitting your "
            "differential."
        )
    try:
        with transaction.atomic():
            submitted = DifferentialRound.objects.create(
                case=case, voter=by, likelihoods=likelihoods
            )
    except IntegrityError as exc:
        raise ServiceError("You already submitted your differential.") from exc
    _audit(by, "differential.round_submit", case, ip, likelihoods=likelihoods)
    _announce(case, by, "round", f"{by.display_name} submitted their differential")
    return submitted


@transaction.atomic
def differential_consensus_reveal(
    *, case: Case, by: User, ip: str | None = None
) -> Case:
    """Show the consensus of an independent case to everyone (the owner)."""
    case = _lock_case(case)
    require(
        case_access(by, case).can_manage, "Only the case owner reveals the consensus."
    )
    if not case.independent:
        raise ServiceError("This case does not use independent differentials.")
    if case.consensus_revealed_at is not None:
        raise ServiceError("The consensus is already shown to everyone.")
    case.consensus_revealed_at = timezone.now()
    case.save(update_fields=["consensus_revealed_at", "updated"])
    _audit(by, "differential.reveal", case, ip)
    _announce(case, by, "reveal", f"{by.display_name} revealed the consensus")
    return case


@transaction.atomic
def differential_independent_set(
    *, case: Case, by: User, on: bool, ip: str | None = None
) -> Case:
    """Turn independent mode on or off (the owner). Turning it on again after
    a reveal hides the consensus again from those who have not submitted."""
    case = _lock_case(case)
    require(case_access(by, case).can_manage, "Only the case owner changes this.")
    _check_writable(case)
    if case.independent == on:
        return case
    case.independent = on
    case.consensus_revealed_at = None
    case.save(update_fields=["independent", "consensus_revealed_at", "updated"])
    _audit(by, "differential.independent", case, ip, on=on)
    _announce(
        case,
        by,
        "mode",
        f"{by.display_name} turned independent differentials "
        + ("on" if on else "off"),
    )
    return case
