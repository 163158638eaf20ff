"""Actions on a case's differential diagnoses and the likelihood votes on them.

Rules (checked through :func:`cases.permissions.case_access`):

- Owner, collaborators and consultants (``can_vote``) propose entries and
  vote. A vote is always the voter's own: 0–100, one per entry and voter,
  changed in place or withdrawn; only entries still under consideration take
  votes.
- Owner and collaborators (``can_edit``) rule entries out, reconsider them,
  confirm one, and reorder the working list. The proposer may also edit or
  remove their own entry while they can vote.
- At most one entry is confirmed. Confirming a second one is refused: the
  first must be reconsidered (un-confirmed) first, which keeps the case's
  final diagnosis from silently changing under someone's feet. Confirming
  sets ``Case.final_diagnosis``; with ``resolve_case`` it also resolves a
  published case (through :func:`diagnoses.services.case_resolve`).
  Reconsidering the confirmed entry clears the final diagnosis and returns a
  resolved case to published.
- Archived cases are read-only.

Every change runs under a lock on the case row, is audited, appends a
:class:`~diagnoses.models.RankingSnapshot` (the ranking's history) and, after
commit, sends this frame to the case's group::

    {"type": "differential.updated",
     "case": <case id>,
     "reason": "add" | "update" | "delete" | "vote" | "rule_out"
               | "reconsider" | "confirm" | "reorder",
     "differential": <id of the entry concerned, null for reorder>,
     "by": {"id": <user id>, "name": <display name>},
     "summary": "<one line, e.g. 'Sam Haddad voted on Psoriasis'>",
     "version": <snapshot id: increases with every change to the case>,
     "final_diagnosis": "<Case.final_diagnosis>",
     "case_status": "<Case.status>",
     "ranking": [<entry>, ... in consensus order]}

    entry = {"id", "label", "icd10", "rationale", "status", "position",
             "rank", "mean", "spread", "voters", "proposer": {"id", "name"} | null,
             "proposer_estimate", "consult": <consult id> | null,
             "decided_by": {"id", "name"} | null, "decided_at": <ISO time> | null}

Individual votes are never broadcast; a client knows its own vote from the
response to its request.

Independent mode (``Case.independent``, on by default for community cases):
while the consensus is hidden (see :func:`diagnoses.selectors.
consensus_hidden`) the frame also carries ``"blind": {"submitted": [voter
ids], "ranking": [<entry without mean, spread, voters, proposer_estimate,
pooled>, ... in working order]}``. The case's WebSocket consumer never
relays ``blind`` itself: a connection whose user is in ``submitted`` gets
the frame without it, every other one gets ``ranking`` replaced by the blind
ranking and ``"hidden": true``. Entries carry ``pooled`` and
``pooled_rank`` (Borda points over submitted rounds) on independent cases.

:func:`differential_round_submit` locks in the voter's round (reason
``"round"``); :func:`differential_consensus_reveal` shows the consensus to
everyone (reason ``"reveal"``); :func:`differential_independent_set` turns
the mode on or off (reason ``"mode"``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from cases.models import Case
from cases.permissions import CaseAccess, case_access
from cases.phi import findings_unresolved, scan_fields
from cases.phi_gate import PHIFound, phi_gate
from cases.services.cases import case_announce, case_locked
from diagnoses.icd10 import ICD10_RE, normalise_icd10
from diagnoses.models import (
    Differential,
    DifferentialRound,
    DifferentialVote,
    RankingSnapshot,
)
from diagnoses.scoring import case_scores_clear, case_scores_compute
from diagnoses.selectors import (
    blind_payload,
    consensus_hidden,
    differential_ranking,
    ranking_payload,
    round_voters,
)
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.models import User
from workspace.services import ServiceError, require

if TYPE_CHECKING:  # consults builds on diagnoses, not the other way round
    from consults.models import ConsultRequest

__all__ = [
    "case_resolve",
    "differential_add",
    "differential_confirm",
    "differential_consensus_reveal",
    "differential_delete",
    "differential_independent_set",
    "differential_reconsider",
    "differential_round_submit",
    "differential_rule_out",
    "differential_update",
    "differential_vote",
    "differentials_reorder",
]

MAX_LABEL = 200
MAX_RATIONALE = 4000


# --- Helpers ------------------------------------------------------------------------


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _lock_entry(differential: Differential) -> tuple[Case, Differential]:
    """Lock the case first (one order everywhere, so no deadlocks), then reread."""
    case = _lock_case(differential.case)
    entry = (
        Differential.objects.select_related("proposed_by")
        .filter(pk=differential.pk, case=case)
        .first()
    )
    if entry is None:
        raise ServiceError("That diagnosis is no longer on the list.")
    return case, entry


def _check_writable(case: Case) -> None:
    if case.status == Case.Status.ARCHIVED:
        raise ServiceError("This case is archived; its differentials are read-only.")


def _clean(label: str, icd10_code: str, rationale: str) -> tuple[str, str, str]:
    label = " ".join((label or "").split())
    code = normalise_icd10(icd10_code or "")
    rationale = (rationale or "").strip()
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = "Enter a diagnosis."
    elif len(label) > MAX_LABEL:
        errors["label"] = f"Keep the diagnosis under {MAX_LABEL} characters."
    if code and not ICD10_RE.match(code):
        errors["icd10_code"] = "Enter an ICD-10 code such as J18.9 or L40."
    if len(rationale) > MAX_RATIONALE:
        errors["rationale"] = f"Keep the rationale under {MAX_RATIONALE} characters."
    if errors:
        raise InvalidInput(errors)
    return label, code, rationale


def _check_likelihood(likelihood: int) -> int:
    if isinstance(likelihood, bool) or not isinstance(likelihood, int):
        raise InvalidInput({"likelihood": "Enter a whole number from 0 to 100."})
    if not 0 <= likelihood <= 100:
        raise InvalidInput({"likelihood": "Likelihood is from 0 to 100."})
    return likelihood


def _duplicate(case: Case, label: str, *, excluding: int | None = None) -> bool:
    qs = Differential.objects.filter(case=case, label__iexact=label)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.exists()


def _may_change_entry(access: CaseAccess, entry: Differential, by: User) -> bool:
    return access.can_edit or (access.can_vote and entry.proposed_by_id == by.pk)


def _announce(
    *,
    case: Case,
    by: User,
    reason: str,
    summary: str,
    differential: Differential | None,
) -> RankingSnapshot:
    """Snapshot the new ranking and broadcast it after commit."""
    ranked = differential_ranking(case)
    snapshot = RankingSnapshot.objects.create(
        case=case,
        actor=by,
        reason=reason,
        summary=summary[:300],
        ranking=[r.as_snapshot() for r in ranked],
    )
    frame = {
        "type": "differential.updated",
        "case": case.pk,
        "reason": reason,
        "differential": differential.pk if differential else None,
        "by": {"id": by.pk, "name": by.display_name},
        "summary": snapshot.summary,
        "version": snapshot.pk,
        "final_diagnosis": case.final_diagnosis,
        "case_status": case.status,
        "independent": case.independent,
        "ranking": ranking_payload(ranked),
    }
    if case.independent:
        submitted = round_voters(case)
        frame["submitted"] = len(submitted)
        if consensus_hidden(case, None, submitted):
            frame["blind"] = {"submitted": submitted, "ranking": blind_payload(ranked)}
    broadcast_on_commit(case_group(case), frame)
    return snapshot


def _audit(by: User, verb: str, entry: Differential, ip: str | None, **data) -> None:
    audit.record(
        actor=by,
        verb=verb,
        target=entry,
        case_id=entry.case_id,
        ip=ip,
        data={"label": entry.label, **data},
    )


# --- Entries ------------------------------------------------------------------------


def _add_locked(
    *,
    case: Case,
    by: User,
    label: str,
    icd10_code: str,
    rationale: str,
    likelihood: int | None,
    consult: ConsultRequest | None,
    ip: str | None,
    dismissed: Collection[str] | None = None,
) -> Differential:
    """Add an entry; ``dismissed`` None means the caller already passed the
    text through the PHI gate (a consult answer gates all of its fields)."""
    label, code, rationale = _clean(label, icd10_code, rationale)
    if dismissed is not None:
        phi_gate(
            fields={"label": label, "rationale": rationale},
            dismissed=dismissed,
            by=by,
            surface="differential.add",
            target=case,
            case_id=case.pk,
            ip=ip,
        )
    if likelihood is not None:
        _check_likelihood(likelihood)
    if _duplicate(case, label):
        raise InvalidInput({"label": f"“{label}” is already on the list."})
    last = Differential.objects.filter(case=case).order_by("-position").first()
    entry = Differential.objects.create(
        case=case,
        label=label,
        icd10_code=code,
        rationale=rationale,
        proposed_by=by,
        consult=consult,
        position=(last.position + 1) if last else 0,
    )
    if likelihood is not None:
        DifferentialVote.objects.create(
            differential=entry, voter=by, likelihood=likelihood
        )
    _audit(
        by,
        "differential.add",
        entry,
        ip,
        icd10=code,
        likelihood=likelihood,
        consult=consult.pk if consult else None,
    )
    return entry


@transaction.atomic
def differential_add(
    *,
    case: Case,
    by: User,
    label: str,
    icd10_code: str = "",
    rationale: str = "",
    likelihood: int | None = None,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Differential:
    """Propose a diagnosis, attributed to ``by``, at the end of the working list.

    ``likelihood`` (optional) records the proposer's own estimate as their
    vote. Labels are unique per case, ignoring case. The label and the
    rationale pass the PHI gate (:func:`cases.phi_gate.phi_gate`): nothing is
    stored or announced while a finding is neither edited away nor among
    ``dismissed``.
    """
    require(
        case_access(by, case).can_vote,
        "Only the case's owner, collaborators and consultants propose diagnoses.",
    )
    case = _lock_case(case)
    _check_writable(case)
    entry = _add_locked(
        case=case,
        by=by,
        label=label,
        icd10_code=icd10_code,
        rationale=rationale,
        likelihood=likelihood,
        consult=None,
        ip=ip,
        dismissed=dismissed,
    )
    _announce(
        case=case,
        by=by,
        reason="add",
        summary=f"{by.display_name} proposed {entry.label}",
        differential=entry,
    )
    return entry


def differentials_add_from_consult(
    *,
    case: Case,
    by: User,
    consult: ConsultRequest,
    suggestions: Sequence[dict],
    ip: str | None = None,
) -> list[Differential]:
    """Add a specialist's suggested diagnoses (the caller holds the case lock).

    A suggestion already on the list is not duplicated: the specialist's
    likelihood, when given, becomes their vote on the existing entry.
    """
    added: list[Differential] = []
    for suggestion in suggestions:
        label, code, rationale = _clean(
            suggestion.get("label", ""),
            suggestion.get("icd10_code", ""),
            suggestion.get("rationale", ""),
        )
        likelihood = suggestion.get("likelihood")
        existing = Differential.objects.filter(case=case, label__iexact=label).first()
        if existing is not None:
            if likelihood is not None and existing.is_considered:
                DifferentialVote.objects.update_or_create(
                    differential=existing,
                    voter=by,
                    defaults={"likelihood": _check_likelihood(likelihood)},
                )
            continue
        added.append(
            _add_locked(
                case=case,
                by=by,
                label=label,
                icd10_code=code,
                rationale=rationale,
                likelihood=likelihood,
                consult=consult,
                ip=ip,
            )
        )
    if suggestions:
        names = ", ".join(s.get("label", "").strip() for s in suggestions)
        _announce(
            case=case,
            by=by,
            reason="add",
            summary=f"{by.display_name} suggested {names} in a consult",
            differential=added[0] if added else None,
        )
    return added


@transaction.atomic
def differential_update(
    *,
    differential: Differential,
    by: User,
    label: str,
    icd10_code: str = "",
    rationale: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Differential:
    """Edit an entry's label, code and rationale (editors, or its proposer).

    Renaming the confirmed entry renames the case's final diagnosis with it.
    The label and rationale pass the PHI gate, as when adding.
    """
    case, entry = _lock_entry(differential)
    access = case_access(by, case)
    require(_may_change_entry(access, entry, by), "You can't edit this diagnosis.")
    _check_writable(case)
    label, code, rationale = _clean(label, icd10_code, rationale)
    phi_gate(
        fields={"label": label, "rationale": rationale},
        dismissed=dismissed,
        by=by,
        surface="differential.update",
        target=entry,
        case_id=case.pk,
        ip=ip,
    )
    if _duplicate(case, label, excluding=entry.pk):
        raise InvalidInput({"label": f"“{label}” is already on the list."})
    before = entry.label
    entry.label, entry.icd10_code, entry.rationale = label, code, rationale
    entry.save(update_fields=["label", "icd10_code", "rationale", "updated"])
    if entry.is_confirmed and case.final_diagnosis != label:
        case.final_diagnosis = label
        case.save(update_fields=["final_diagnosis", "updated"])
    _audit(by, "differential.update", entry, ip, before=before, icd10=code)
    _announce(
        case=case,
        by=by,
        reason="update",
        summary=f"{by.display_name} edited {label}",
        differential=entry,
    )
    return entry


@transaction.atomic
def differential_delete(
    *, differential: Differential, by: User, ip: str | None = None
) -> None:
    """Remove an entry and its votes (editors, or its proposer); never the
    confirmed one, which must be reconsidered first."""
    case, entry = _lock_entry(differential)
    access = case_access(by, case)
    require(_may_change_entry(access, entry, by), "You can't remove this diagnosis.")
    _check_writable(case)
    if entry.is_confirmed:
        raise ServiceError(
            "This is the confirmed diagnosis. Reconsider it before removing it."
        )
    _audit(by, "differential.delete", entry, ip)
    label = entry.label
    entry.delete()
    _announce(
        case=case,
        by=by,
        reason="delete",
        summary=f"{by.display_name} removed {label}",
        differential=None,
    )


# --- Votes --------------------------------------------------------------------------


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
    _announce(case=case, by=by, reason="vote", summary=summary, differential=entry)
    return vote


# --- Decisions ----------------------------------------------------------------------


@transaction.atomic
def differential_rule_out(
    *,
    differential: Differential,
    by: User,
    reason: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Differential:
    """Rule out an entry under consideration (editors); votes are kept.

    The reason is shown to everyone on the case: it passes the PHI gate (as
    the ``note`` field, the form's name for it).
    """
    case, entry = _lock_entry(differential)
    require(case_access(by, case).can_edit, "You can't rule out diagnoses here.")
    _check_writable(case)
    if entry.status == Differential.Status.RULED_OUT:
        raise ServiceError(f"“{entry.label}” is already ruled out.")
    if entry.is_confirmed:
        raise ServiceError(
            f"“{entry.label}” is the confirmed diagnosis. Reconsider it first."
        )
    note = (reason or "").strip()[:MAX_RATIONALE]
    phi_gate(
        fields={"note": note},
        dismissed=dismissed,
        by=by,
        surface="differential.rule_out",
        target=entry,
        case_id=case.pk,
        ip=ip,
    )
    entry.status = Differential.Status.RULED_OUT
    entry.decided_by, entry.decided_at = by, timezone.now()
    entry.decision_note = note
    entry.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "updated"]
    )
    _audit(by, "differential.rule_out", entry, ip, reason=entry.decision_note)
    _announce(
        case=case,
        by=by,
        reason="rule_out",
        summary=f"{by.display_name} ruled out {entry.label}",
        differential=entry,
    )
    return entry


@transaction.atomic
def differential_reconsider(
    *, differential: Differential, by: User, ip: str | None = None
) -> Differential:
    """Put a ruled-out or confirmed entry back under consideration (editors).

    For the confirmed entry this clears the case's final diagnosis and, if
    the case was resolved, returns it to published.
    """
    case, entry = _lock_entry(differential)
    require(case_access(by, case).can_edit, "You can't change diagnoses here.")
    _check_writable(case)
    if entry.is_considered:
        raise ServiceError(f"“{entry.label}” is already under consideration.")
    was = entry.status
    entry.status = Differential.Status.CONSIDERED
    entry.decided_by, entry.decided_at, entry.decision_note = None, None, ""
    entry.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "updated"]
    )
    if was == Differential.Status.CONFIRMED:
        case_scores_clear(case)
        case.final_diagnosis = ""
        fields = ["final_diagnosis", "updated"]
        if case.status == Case.Status.RESOLVED:
            case.status = Case.Status.PUBLISHED
            case.resolved_at = None
            fields += ["status", "resolved_at"]
        case.save(update_fields=fields)
        if "status" in fields:
            _announce_case(case)
    _audit(by, "differential.reconsider", entry, ip, was=was)
    _announce(
        case=case,
        by=by,
        reason="reconsider",
        summary=f"{by.display_name} reconsidered {entry.label}",
        differential=entry,
    )
    return entry


@transaction.atomic
def differential_confirm(
    *,
    differential: Differential,
    by: User,
    resolve_case: bool = False,
    note: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Differential:
    """Confirm the entry as the case's final diagnosis (editors).

    Refused while another entry is confirmed. With ``resolve_case`` a
    published case is resolved in the same transaction; anything that stops
    the resolution (a draft case, a PHI finding in the label) stops the
    confirmation too. The note passes the PHI gate; when resolving, the
    label passes it again as the ``final_diagnosis``, and a refusal lists the
    findings of both at once.
    """
    case, entry = _lock_entry(differential)
    require(case_access(by, case).can_edit, "You can't confirm diagnoses here.")
    _check_writable(case)
    if entry.is_confirmed:
        raise ServiceError(f"“{entry.label}” is already confirmed.")
    other = (
        Differential.objects.filter(case=case, status=Differential.Status.CONFIRMED)
        .exclude(pk=entry.pk)
        .first()
    )
    if other is not None:
        raise ServiceError(
            f"“{other.label}” is already the confirmed diagnosis. Reconsider it "
            "first, then confirm this one."
        )
    if resolve_case and case.status != Case.Status.PUBLISHED:
        raise ServiceError("Only a published case can be resolved.")
    note = (note or "").strip()[:MAX_RATIONALE]
    try:
        phi_gate(
            fields={"note": note},
            dismissed=dismissed,
            by=by,
            surface="differential.confirm",
            target=entry,
            case_id=case.pk,
            ip=ip,
        )
    except PHIFound as refused:
        if not resolve_case:
            raise
        final = {"final_diagnosis": entry.label}
        more = findings_unresolved(scan_fields(final), set(dismissed))
        raise PHIFound([*refused.findings, *more], {**refused.texts, **final}) from None
    entry.status = Differential.Status.CONFIRMED
    entry.decided_by, entry.decided_at = by, timezone.now()
    entry.decision_note = note
    try:
        with transaction.atomic():
            entry.save(
                update_fields=[
                    "status",
                    "decided_by",
                    "decided_at",
                    "decision_note",
                    "updated",
                ]
            )
    except IntegrityError as exc:  # a racing confirmation won
        raise ServiceError("Another diagnosis was confirmed just now.") from exc
    if resolve_case:
        case = case_resolve(
            case=case,
            by=by,
            final_diagnosis=entry.label,
            dismissed=dismissed,
            ip=ip,
            announce_ranking=False,
        )
    else:
        case.final_diagnosis = entry.label
        case.save(update_fields=["final_diagnosis", "updated"])
    _audit(
        by,
        "differential.confirm",
        entry,
        ip,
        resolved=resolve_case,
        note=entry.decision_note,
    )
    _announce(
        case=case,
        by=by,
        reason="confirm",
        summary=f"{by.display_name} confirmed {entry.label}"
        + (" and resolved the case" if resolve_case else ""),
        differential=entry,
    )
    return entry


def _announce_case(case: Case) -> None:
    """The ``case.updated`` frame of :mod:`cases.services.cases`, for status changes."""
    broadcast_on_commit(
        case_group(case),
        {
            "type": "case.updated",
            "case": case.pk,
            "status": case.status,
            "visibility": case.visibility,
        },
    )


@transaction.atomic
def differentials_reorder(
    *, case: Case, by: User, order: Sequence[int], ip: str | None = None
) -> list[Differential]:
    """Set the working order (editors). ``order`` lists every entry's id once."""
    require(case_access(by, case).can_edit, "You can't reorder this list.")
    case = _lock_case(case)
    _check_writable(case)
    entries = {d.pk: d for d in Differential.objects.filter(case=case)}
    if sorted(order) != sorted(entries) or len(set(order)) != len(order):
        raise ServiceError(
            "The list changed while you were reordering it. Reload and try again."
        )
    changed = []
    for position, pk in enumerate(order):
        entry = entries[pk]
        if entry.position != position:
            entry.position = position
            changed.append(entry)
    if not changed:
        return [entries[pk] for pk in order]
    Differential.objects.bulk_update(changed, ["position"])
    audit.record(
        actor=by,
        verb="differential.reorder",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"order": list(order)},
    )
    _announce(
        case=case,
        by=by,
        reason="reorder",
        summary=f"{by.display_name} reordered the list",
        differential=None,
    )
    return [entries[pk] for pk in order]


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
    audit.record(
        actor=by,
        verb="differential.round_submit",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"likelihoods": likelihoods},
    )
    _announce(
        case=case,
        by=by,
        reason="round",
        summary=f"{by.display_name} submitted their differential",
        differential=None,
    )
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
    audit.record(
        actor=by, verb="differential.reveal", target=case, case_id=case.pk, ip=ip
    )
    _announce(
        case=case,
        by=by,
        reason="reveal",
        summary=f"{by.display_name} revealed the consensus",
        differential=None,
    )
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
    audit.record(
        actor=by,
        verb="differential.independent",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"on": on},
    )
    _announce(
        case=case,
        by=by,
        reason="mode",
        summary=f"{by.display_name} turned independent differentials "
        + ("on" if on else "off"),
        differential=None,
    )
    return case


def announce_resolution(*, case: Case, by: User) -> None:
    """A ``differential.updated`` frame (reason ``"resolve"``) after
    :func:`diagnoses.services.case_resolve`, so open panels show the
    outcome and the now-visible consensus at once."""
    _announce(
        case=case,
        by=by,
        reason="resolve",
        summary=f"{by.display_name} resolved the case: {case.final_diagnosis}",
        differential=None,
    )


# --- Resolving the case ---------------------------------------------------------------


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    by: User,
    final_diagnosis: str,
    confirmed: Differential | None = None,
    dismissed: Collection[str] = (),
    ip: str | None = None,
    announce_ranking: bool = True,
) -> Case:
    """Mark a published case resolved with its final diagnosis.

    ``confirmed`` links the diagnosis to an entry of the case's differential
    (confirming it, unless it already is; refused while another entry is
    confirmed); an empty ``final_diagnosis`` then takes the entry's label.
    With a confirmed entry (linked here or confirmed earlier) every voter's
    likelihoods are scored (:mod:`diagnoses.scoring`), replacing any
    earlier scores of the case. Everyone on the case hears of it live: a
    ``case.updated`` frame with ``final_diagnosis`` and, unless the caller
    announces the ranking itself, a ``differential.updated`` (``resolve``).

    Owner and collaborators resolve. The diagnosis is free text shown to
    everyone who sees the case, so it passes the PHI gate too
    (:func:`cases.phi_gate.phi_gate`, surface ``case.resolve``): refused
    while a finding is neither fixed nor in ``dismissed``; a dismissal is
    audited.
    """
    access = case_access(by, case)
    require(access.can_edit, "You can't resolve this case.")
    case = case_locked(case)
    if case.status != Case.Status.PUBLISHED:
        raise ServiceError("Only a published case can be resolved.")
    final_diagnosis = " ".join((final_diagnosis or "").split())
    if confirmed is not None:
        confirmed = Differential.objects.filter(pk=confirmed.pk, case=case).first()
        if confirmed is None:
            raise InvalidInput(
                {"confirmed": "That diagnosis is no longer on this case's list."}
            )
        if confirmed.status == Differential.Status.RULED_OUT:
            raise InvalidInput(
                {
                    "confirmed": f"“{confirmed.label}” was ruled out; reconsider it first."
                }
            )
        other = (
            Differential.objects.filter(case=case, status=Differential.Status.CONFIRMED)
            .exclude(pk=confirmed.pk)
            .first()
        )
        if other is not None:
            raise InvalidInput(
                {
                    "confirmed": f"“{other.label}” is already the confirmed diagnosis; "
                    "un-confirm it first."
                }
            )
        final_diagnosis = final_diagnosis or confirmed.label
    if not final_diagnosis:
        raise InvalidInput({"final_diagnosis": "Enter the final diagnosis."})
    if len(final_diagnosis) > 200:
        raise InvalidInput(
            {"final_diagnosis": "Keep the diagnosis under 200 characters."}
        )
    phi_gate(
        fields={"final_diagnosis": final_diagnosis},
        dismissed=dismissed,
        by=by,
        surface="case.resolve",
        target=case,
        case_id=case.pk,
        ip=ip,
    )
    if confirmed is not None and not confirmed.is_confirmed:
        confirmed.status = Differential.Status.CONFIRMED
        confirmed.decided_by, confirmed.decided_at = by, timezone.now()
        confirmed.save(update_fields=["status", "decided_by", "decided_at", "updated"])
    case.status = Case.Status.RESOLVED
    case.final_diagnosis = final_diagnosis
    case.resolved_at = timezone.now()
    case.save(update_fields=["status", "final_diagnosis", "resolved_at", "updated"])
    scores = case_scores_compute(case)
    audit.record(
        actor=by,
        verb="case.resolve",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={
            "final_diagnosis": final_diagnosis,
            "confirmed": confirmed.pk if confirmed else None,
            "scored": len(scores),
        },
    )
    case_announce(
        case,
        final_diagnosis=final_diagnosis,
        resolved_at=case.resolved_at.isoformat(),
        # The page's own "j M Y" in the site's time zone, so live and
        # reloaded pages read the same.
        resolved_on=date_format(timezone.localtime(case.resolved_at), "j M Y"),
    )
    if announce_ranking:
        announce_resolution(case=case, by=by)
    return case
