"""What the differential services share: locks (the case row first, always), input
checks, the PHI gate and the audit record of a change, and the ranking
snapshot with its ``differential.updated`` frame (see :mod:`diagnoses.services`).
"""

from __future__ import annotations

from collections.abc import Collection

from cases.models import Case
from cases.permissions import CaseAccess
from cases.phi_gate import phi_gate
from diagnoses.icd10 import ICD10_RE, normalise_icd10
from diagnoses.models import Differential, RankingSnapshot
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
from workspace.services import ServiceError

MAX_LABEL = 200
MAX_RATIONALE = 4000


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
    case: Case,
    by: User,
    reason: str,
    summary: str,
    differential: Differential | None = None,
) -> RankingSnapshot:
    """Snapshot the new ranking and broadcast it after commit: ``by`` changed
    the list for ``reason`` (``differential``, the entry concerned, if one)."""
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


def _audit(
    by: User, verb: str, target: Differential | Case, ip: str | None, **data
) -> None:
    """Audit a change to an entry (its label recorded with ``data``) or to the
    case's list as a whole (``target`` the case)."""
    if isinstance(target, Differential):
        case_id, data = target.case_id, {"label": target.label, **data}
    else:
        case_id = target.pk
    audit.record(actor=by, verb=verb, target=target, case_id=case_id, ip=ip, data=data)


def _gate(
    target: Differential | Case,
    surface: str,
    fields: dict[str, str],
    *,
    by: User,
    dismissed: Collection[str],
    ip: str | None,
) -> None:
    """The PHI gate (:func:`cases.phi_gate.phi_gate`) on text about ``target``
    (an entry, or the case): raises ``PHIFound`` while a finding is neither
    fixed nor in ``dismissed``."""
    case_id = target.case_id if isinstance(target, Differential) else target.pk
    phi_gate(
        fields=fields,
        dismissed=dismissed,
        by=by,
        surface=surface,
        target=target,
        case_id=case_id,
        ip=ip,
    )
