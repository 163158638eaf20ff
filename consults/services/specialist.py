"""The specialist's steps on a consult: accept, decline, answer (with
suggested diagnoses for the case's differential).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.db import transaction
from django.utils import timezone

from cases.models import Case
from consults.models import ConsultEvent, ConsultRequest
from consults.selectors import consult_access
from consults.services._common import (
    S,
    _audit,
    _broadcast,
    _event,
    _gate,
    _locked,
    _notify,
    _refuse_state,
    _requester_side,
    _text,
)
from consults.services.access import _end_access, _grant_access
from diagnoses.services import differentials_add_from_consult
from workspace.errors import InvalidInput
from workspace.markdown import rendered_ahead
from workspace.models import User
from workspace.services import PermissionDenied, ServiceError

# --- The specialist's steps ---------------------------------------------------------


@transaction.atomic
def consult_accept(
    *, consult: ConsultRequest, by: User, ip: str | None = None
) -> ConsultRequest:
    """Take the consult: ``by`` becomes its assignee and a consultant on the case."""
    consult = _locked(consult)
    if consult.status != S.REQUESTED:
        _refuse_state(consult, "accept")
    access = consult_access(by, consult)
    if not by.is_verified_clinician:
        raise PermissionDenied("Only verified clinicians can take consults.")
    if not access.can_accept:
        raise PermissionDenied(
            "You asked for this consult; another specialist has to take it."
            if access.is_requester
            else "This consult is for another specialist or specialty."
        )
    consult.status = S.ACCEPTED
    consult.assignee = by
    consult.accepted_at = timezone.now()
    _grant_access(consult, by, by)
    consult.save(
        update_fields=[
            "status",
            "assignee",
            "accepted_at",
            "granted_access",
            "previous_role",
            "updated",
        ]
    )
    _event(consult, ConsultEvent.Kind.ACCEPTED, by)
    _audit(by, "consult.accept", consult, ip, granted_access=consult.granted_access)
    _notify(
        _requester_side(consult, by),
        consult,
        f"{by.display_name} accepted your consult on “{consult.case.title}”",
    )
    _broadcast(consult)
    return consult


@transaction.atomic
def consult_decline(
    *,
    consult: ConsultRequest,
    by: User,
    reason: str,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> ConsultRequest:
    """Decline with a reason, before answering; ends any access accepting gave."""
    consult = _locked(consult)
    if consult.status not in ConsultRequest.OPEN_STATUSES:
        _refuse_state(consult, "decline")
    access = consult_access(by, consult)
    if not access.can_decline:
        raise PermissionDenied(
            "Only the specialist who accepted it can decline this consult."
            if consult.status == S.ACCEPTED
            else "This consult is for another specialist or specialty."
        )
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors, required=True)
    if errors:
        raise InvalidInput(errors)
    _gate(
        consult,
        "consult.decline",
        {"reason": reason},
        by=by,
        dismissed=dismissed,
        ip=ip,
    )
    consult.status = S.DECLINED
    consult.decline_reason = reason
    consult.assignee = by
    consult.finished_at = timezone.now()
    consult.save(
        update_fields=[
            "status",
            "decline_reason",
            "assignee",
            "finished_at",
            "updated",
        ]
    )
    _event(consult, ConsultEvent.Kind.DECLINED, by, reason)
    _end_access(consult, by, ip)
    _audit(by, "consult.decline", consult, ip, reason=reason)
    _notify(
        _requester_side(consult, by),
        consult,
        f"{by.display_name} declined your consult on “{consult.case.title}”",
        reason,
    )
    _broadcast(consult)
    return consult


@rendered_ahead("impression", "recommendations", "follow_up", strip=True)
@transaction.atomic
def consult_answer(
    *,
    consult: ConsultRequest,
    by: User,
    impression: str,
    recommendations: str = "",
    follow_up: str = "",
    suggestions: Sequence[dict] = (),
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> ConsultRequest:
    """Answer an accepted consult (its specialist only).

    ``suggestions`` are dicts with ``label`` and optionally ``icd10_code``,
    ``rationale`` and ``likelihood`` (0–100, recorded as the specialist's
    vote). They join the case's differential list attributed to ``by``.
    Every text passes the PHI gate in one go; a suggestion's fields are
    named ``suggestions.<i>.label`` and ``suggestions.<i>.rationale``, ``i``
    its index in ``suggestions``.
    """
    consult = _locked(consult)
    if consult.status != S.ACCEPTED:
        if consult.status == S.REQUESTED:
            raise ServiceError("Accept this consult before answering it.")
        _refuse_state(consult, "answer")
    if not consult_access(by, consult).can_answer:
        raise PermissionDenied("Only the specialist who accepted it can answer.")
    errors: dict[str, str] = {}
    impression = _text(impression, "impression", errors, required=True)
    recommendations = _text(recommendations, "recommendations", errors)
    follow_up = _text(follow_up, "follow_up", errors)
    if errors:
        raise InvalidInput(errors)
    if consult.case.status == Case.Status.ARCHIVED and suggestions:
        raise ServiceError("The case was archived; it takes no new diagnoses.")
    texts = {
        "impression": impression,
        "recommendations": recommendations,
        "follow_up": follow_up,
    }
    for i, suggestion in enumerate(suggestions):
        texts[f"suggestions.{i}.label"] = suggestion.get("label") or ""
        texts[f"suggestions.{i}.rationale"] = suggestion.get("rationale") or ""
    _gate(consult, "consult.answer", texts, by=by, dismissed=dismissed, ip=ip)
    consult.status = S.ANSWERED
    consult.impression = impression
    consult.recommendations = recommendations
    consult.follow_up = follow_up
    consult.answered_at = timezone.now()
    consult.save(
        update_fields=[
            "status",
            "impression",
            "recommendations",
            "follow_up",
            "answered_at",
            "updated",
        ]
    )
    added = differentials_add_from_consult(
        case=consult.case,
        by=by,
        consult=consult,
        suggestions=[s for s in suggestions if (s.get("label") or "").strip()],
        ip=ip,
    )
    _event(consult, ConsultEvent.Kind.ANSWERED, by, impression)
    _audit(
        by,
        "consult.answer",
        consult,
        ip,
        suggested=[d.label for d in added],
    )
    _notify(
        _requester_side(consult, by),
        consult,
        f"{by.display_name} answered your consult on “{consult.case.title}”",
        impression,
    )
    _broadcast(consult)
    return consult
