"""Decisions on an entry: rule it out, reconsider it, confirm it as the
case's final diagnosis (optionally resolving the case with it).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from cases.phi import findings_unresolved, scan_fields
from cases.phi_gate import PHIFound
from cases.services.cases import case_announce
from diagnoses.models import Differential
from diagnoses.scoring import case_scores_clear
from diagnoses.services._common import (
    MAX_RATIONALE,
    _announce,
    _audit,
    _check_writable,
    _gate,
    _lock_entry,
)
from diagnoses.services.resolution import case_resolve
from workspace.models import User
from workspace.services import ServiceError, require


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
    _gate(
        entry,
        "differential.rule_out",
        {"note": note},
        by=by,
        dismissed=dismissed,
        ip=ip,
    )
    entry.status = Differential.Status.RULED_OUT
    entry.decided_by, entry.decided_at = by, timezone.now()
    entry.decision_note = note
    entry.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "updated"]
    )
    _audit(by, "differential.rule_out", entry, ip, reason=entry.decision_note)
    _announce(case, by, "rule_out", f"{by.display_name} ruled out {entry.label}", entry)
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
            case_announce(case)
    _audit(by, "differential.reconsider", entry, ip, was=was)
    _announce(
        case, by, "reconsider", f"{by.display_name} reconsidered {entry.label}", entry
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
        _gate(
            entry,
            "differential.confirm",
            {"note": note},
            by=by,
            dismissed=dismissed,
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
        case,
        by,
        "confirm",
        f"{by.display_name} confirmed {entry.label}"
        + (" and resolved the case" if resolve_case else ""),
        entry,
    )
    return entry
