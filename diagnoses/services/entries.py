"""The entries of a differential: propose (by hand or from a consult's answer),
edit, remove, and set the working order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from cases.models import Case
from cases.permissions import case_access
from diagnoses.models import Differential, DifferentialVote
from diagnoses.services._common import (
    _announce,
    _audit,
    _check_likelihood,
    _check_writable,
    _clean,
    _duplicate,
    _gate,
    _lock_case,
    _lock_entry,
    _may_change_entry,
)
from workspace.errors import InvalidInput
from workspace.models import User
from workspace.services import ServiceError, require

if TYPE_CHECKING:  # consults builds on diagnoses, not the other way round
    from consults.models import ConsultRequest


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
        _gate(
            case,
            "differential.add",
            {"label": label, "rationale": rationale},
            by=by,
            dismissed=dismissed,
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
    _announce(case, by, "add", f"{by.display_name} proposed {entry.label}", entry)
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
            case,
            by,
            "add",
            f"{by.display_name} suggested {names} in a consult",
            added[0] if added else None,
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
    _gate(
        entry,
        "differential.update",
        {"label": label, "rationale": rationale},
        by=by,
        dismissed=dismissed,
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
    _announce(case, by, "update", f"{by.display_name} edited {label}", entry)
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
    _announce(case, by, "delete", f"{by.display_name} removed {label}")


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
    _audit(by, "differential.reorder", case, ip, order=list(order))
    _announce(case, by, "reorder", f"{by.display_name} reordered the list")
    return [entries[pk] for pk in order]
