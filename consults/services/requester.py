"""The requester's side of a consult: asking, then closing an answered consult
or cancelling an open one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import phi_gate
from consults.models import ConsultEvent, ConsultRequest
from consults.selectors import consult_access
from consults.services._common import (
    MAX_TEXT,
    NOTIFY_SPECIALISTS_MAX,
    S,
    _audit,
    _broadcast,
    _event,
    _gate,
    _locked,
    _notify,
    _refuse_state,
    _text,
)
from consults.services.access import _end_access
from workspace.errors import InvalidInput
from workspace.markdown import rendered_ahead
from workspace.models import Specialty, User
from workspace.services import PermissionDenied, ServiceError

# --- Request ------------------------------------------------------------------------


@rendered_ahead("question", strip=True)
@transaction.atomic
def consult_request(
    *,
    case: Case,
    by: User,
    question: str,
    urgency: str = ConsultRequest.Urgency.ROUTINE,
    specialty: Specialty | None = None,
    assignee: User | None = None,
    due_at: datetime | None = None,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> ConsultRequest:
    """Ask a specialty or a named specialist a question about ``case``.

    Any participant who can comment may ask. ``due_at`` defaults from the
    urgency (routine 72 h, urgent 24 h, emergent 1 h) and must be in the future.
    The named specialist, or the specialty's verified clinicians, are notified.
    """
    access = case_access(by, case)
    if access.role is None or not access.can_comment:
        raise PermissionDenied(
            "Only the case's participants who can comment request consults."
        )
    errors: dict[str, str] = {}
    question = _text(question, "question", errors, required=True)
    if urgency not in ConsultRequest.Urgency.values:
        errors["urgency"] = "Choose routine, urgent or emergent."
    if specialty is None and assignee is None:
        errors["specialty"] = "Choose a specialty or name a specialist."
    if assignee is not None:
        if assignee.pk == by.pk:
            errors["assignee"] = "You can't ask yourself for a consult."
        elif not assignee.is_verified_clinician:
            errors["assignee"] = (
                f"{assignee.display_name} is not a verified clinician and can't "
                "take consults."
            )
    now = timezone.now()
    if due_at is None and "urgency" not in errors:
        due_at = ConsultRequest.default_due(urgency, now=now)
    elif due_at is not None and due_at <= now:
        errors["due_at"] = "Choose a due time in the future."
    if errors:
        raise InvalidInput(errors)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == Case.Status.ARCHIVED:
        raise ServiceError("This case is archived; it takes no new consults.")
    if case.is_draft:
        # A specialist reads the case's title and complaint before accepting,
        # and a draft's text has not been checked for identifiers yet.
        raise ServiceError(DRAFT_REFUSAL)
    phi_gate(
        fields={"question": question},
        dismissed=dismissed,
        by=by,
        surface="consult.request",
        target=case,
        case_id=case.pk,
        ip=ip,
    )
    consult = ConsultRequest.objects.create(
        case=case,
        requested_by=by,
        specialty=specialty,
        assignee=assignee,
        question=question,
        urgency=urgency,
        due_at=due_at,
    )
    _event(consult, ConsultEvent.Kind.REQUESTED, by, question)
    _audit(
        by,
        "consult.request",
        consult,
        ip,
        specialty=specialty.name if specialty else None,
        assignee=assignee.username if assignee else None,
        urgency=urgency,
    )
    title = f"{consult.get_urgency_display()} consult request from {by.display_name}"
    if assignee is not None:
        recipients: list[User] = [assignee]
    else:
        recipients = list(
            User.objects.filter(
                kind=User.Kind.CLINICIAN,
                is_active=True,
                clinician_profile__verification="verified",
                clinician_profile__specialties=specialty,
            )
            .exclude(pk=by.pk)
            .order_by("pk")[:NOTIFY_SPECIALISTS_MAX]
        )
    _notify(recipients, consult, title, question)
    _broadcast(consult)
    return consult


# --- The requester's steps ----------------------------------------------------------


@transaction.atomic
def consult_close(
    *,
    consult: ConsultRequest,
    by: User,
    keep_consultant: bool = False,
    ip: str | None = None,
) -> ConsultRequest:
    """Close an answered consult (requester or case owner).

    The specialist's consultant access ends with it, unless the owner keeps
    them (``keep_consultant``).
    """
    consult = _locked(consult)
    access = consult_access(by, consult)
    if not (access.is_requester or access.manages_case):
        raise PermissionDenied("Only the requester or the case owner closes a consult.")
    if consult.status != S.ANSWERED:
        if consult.status in ConsultRequest.OPEN_STATUSES:
            raise ServiceError(
                "This consult has not been answered yet; cancel it instead."
            )
        _refuse_state(consult, "close")
    if keep_consultant and not access.can_keep:
        raise PermissionDenied(
            "Only the case owner can keep the specialist as a consultant."
        )
    consult.status = S.CLOSED
    consult.finished_at = timezone.now()
    consult.kept_as_consultant = keep_consultant
    consult.save(
        update_fields=["status", "finished_at", "kept_as_consultant", "updated"]
    )
    _event(consult, ConsultEvent.Kind.CLOSED, by)
    if keep_consultant:
        _event(consult, ConsultEvent.Kind.KEPT, by)
        ended = False
    else:
        ended = _end_access(consult, by, ip)
    _audit(
        by,
        "consult.close",
        consult,
        ip,
        kept_as_consultant=keep_consultant,
        access_ended=ended,
    )
    if consult.assignee_id and consult.assignee_id != by.pk:
        _notify(
            [consult.assignee],
            consult,
            f"{by.display_name} closed the consult on “{consult.case.title}”",
            "You stay on the case as a consultant."
            if keep_consultant
            else "Thank you. Your access to the case has ended."
            if ended
            else "",
        )
    _broadcast(consult)
    return consult


@transaction.atomic
def consult_cancel(
    *,
    consult: ConsultRequest,
    by: User,
    reason: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> ConsultRequest:
    """Withdraw an open consult (requester or case owner); ends any access given.

    The reason goes to the specialist: it passes the PHI gate.
    """
    consult = _locked(consult)
    access = consult_access(by, consult)
    if not (access.is_requester or access.manages_case):
        raise PermissionDenied(
            "Only the requester or the case owner cancels a consult."
        )
    if consult.status not in ConsultRequest.OPEN_STATUSES:
        _refuse_state(consult, "cancel")
    reason = (reason or "").strip()[:MAX_TEXT]
    _gate(
        consult, "consult.cancel", {"reason": reason}, by=by, dismissed=dismissed, ip=ip
    )
    consult.status = S.CANCELLED
    consult.finished_at = timezone.now()
    consult.save(update_fields=["status", "finished_at", "updated"])
    _event(consult, ConsultEvent.Kind.CANCELLED, by, reason)
    _end_access(consult, by, ip)
    _audit(by, "consult.cancel", consult, ip, reason=reason)
    if consult.assignee_id and consult.assignee_id != by.pk:
        _notify(
            [consult.assignee],
            consult,
            f"{by.display_name} cancelled the consult on “{consult.case.title}”",
            reason,
        )
    _broadcast(consult)
    return consult


DRAFT_REFUSAL = (
    "Publish the case before asking for a consult: publishing checks its text "
    "for identifiers, and the specialist reads it before accepting."
)


def due_default(urgency: str) -> timedelta:
    """How long an urgency gives by default (for forms)."""
    return ConsultRequest.DEFAULT_DUE[ConsultRequest.Urgency(urgency)]
