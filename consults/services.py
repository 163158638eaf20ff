"""Specialist consults: request, accept, decline, answer, close, cancel.

States::

    requested ──accept──▶ accepted ──answer──▶ answered ──close──▶ closed
        │                    │
        ├──decline───────────┴──decline──▶ declined
        └──cancel────────────┴──cancel───▶ cancelled

Who may do what is :func:`consults.selectors.consult_access`; every
function here re-reads the consult under a lock on the case row and checks it
again, so two specialists accepting at once cannot both win, and an illegal
step (answering a declined consult, accepting twice) raises ``ServiceError``
with a message that says why.

- A request names a specialty, a specialist, or both. A specialty-wide
  request is open to every verified clinician who lists that specialty;
  declining it ends it (the requester may ask again).
- Accepting makes the specialist a ``consultant`` participant of that one case
  (a viewer is promoted and later returned to viewer). Closing, cancelling or
  declining ends that access again, unless the owner keeps them on when
  closing, or another active consult still needs them there.
- The answer is structured: impression (required), recommendations,
  follow-up, and suggested diagnoses added to the case's differential list
  attributed to the specialist (see
  :func:`diagnoses.services.differentials_add_from_consult`).
- Every text the other side reads (the question, the decline and cancel
  reasons, the answer and its suggested diagnoses) passes the PHI gate
  (:func:`cases.phi_gate.phi_gate`) first: nothing is stored, notified or
  broadcast while a finding is neither edited away nor dismissed by key.
- Every step appends a :class:`~consults.models.ConsultEvent`, is audited,
  notifies the other side (``Notification.Kind.CONSULT``, pushed live on
  ``/ws/notifications/``) and sends ``{"type": "consult.updated", "case": id,
  "consult": {"id", "status", "urgency", "due_at", "target"}}`` to the case's
  group.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseParticipant
from cases.permissions import case_access
from cases.phi_gate import phi_gate
from consults.models import ConsultEvent, ConsultRequest
from consults.selectors import consult_access, consultant_still_needed
from diagnoses.services import differentials_add_from_consult
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.markdown import rendered_ahead
from workspace.models import Notification, Specialty, User
from workspace.services import PermissionDenied, ServiceError, notification_create

__all__ = [
    "consult_accept",
    "consult_answer",
    "consult_cancel",
    "consult_close",
    "consult_decline",
    "consult_request",
]

MAX_TEXT = 10_000
# Specialty-wide requests notify at most this many specialists; the rest
# find the request in their queue.
NOTIFY_SPECIALISTS_MAX = 50


S = ConsultRequest.Status


def _locked(consult: ConsultRequest) -> ConsultRequest:
    Case.objects.select_for_update().filter(pk=consult.case_id).first()
    return ConsultRequest.objects.select_related(
        "case", "specialty", "requested_by", "assignee"
    ).get(pk=consult.pk)


def _url(consult: ConsultRequest) -> str:
    return reverse("consult_detail", args=[consult.pk])


def _event(
    consult: ConsultRequest, kind: str, actor: User | None, note: str = ""
) -> ConsultEvent:
    return ConsultEvent.objects.create(
        consult=consult, kind=kind, actor=actor, note=note
    )


def _audit(by: User, verb: str, consult: ConsultRequest, ip: str | None, **data):
    audit.record(
        actor=by,
        verb=verb,
        target=consult,
        case_id=consult.case_id,
        ip=ip,
        data={"status": consult.status, **data},
    )


def _broadcast(consult: ConsultRequest) -> None:
    broadcast_on_commit(
        case_group(consult.case_id),
        {
            "type": "consult.updated",
            "case": consult.case_id,
            "consult": {
                "id": consult.pk,
                "status": consult.status,
                "urgency": consult.urgency,
                "due_at": consult.due_at.isoformat(),
                "target": consult.target_label,
            },
        },
    )


def _notify(
    users: Iterable[User], consult: ConsultRequest, title: str, body: str = ""
) -> None:
    for user in users:
        notification_create(
            user=user,
            kind=Notification.Kind.CONSULT,
            title=title,
            body=body[:500],
            url=_url(consult),
            # The status says which step this was (workspace.mail e-mails
            # some steps).
            data={
                "consult": consult.pk,
                "case": consult.case_id,
                "status": consult.status,
            },
        )


def _requester_side(consult: ConsultRequest, by: User) -> list[User]:
    """Who hears about the specialist's steps: the requester and the owner."""
    people = {consult.requested_by_id: consult.requested_by}
    if consult.case.owner_id not in people:
        people[consult.case.owner_id] = consult.case.owner
    return [u for pk, u in people.items() if pk != by.pk]


def _grant_access(consult: ConsultRequest, specialist: User, by: User) -> None:
    participant = CaseParticipant.objects.filter(
        case=consult.case, user=specialist
    ).first()
    if participant is None:
        CaseParticipant.objects.create(
            case=consult.case,
            user=specialist,
            role=CaseParticipant.Role.CONSULTANT,
            added_by=by,
        )
        consult.granted_access = True
    elif participant.role == CaseParticipant.Role.VIEWER:
        consult.previous_role = participant.role
        participant.role = CaseParticipant.Role.CONSULTANT
        participant.save(update_fields=["role"])
        consult.granted_access = True
    elif participant.role == CaseParticipant.Role.CONSULTANT:
        # Already a consultant through another active consult: share that
        # grant, so the access lasts until the last of them ends.
        sharing = (
            ConsultRequest.objects.filter(
                case=consult.case,
                assignee=specialist,
                status__in=ConsultRequest.ACTIVE_STATUSES,
                granted_access=True,
            )
            .exclude(pk=consult.pk)
            .first()
        )
        if sharing is not None:
            consult.granted_access = True
            consult.previous_role = sharing.previous_role


def _end_access(consult: ConsultRequest, by: User, ip: str | None) -> bool:
    """Undo what accepting granted, unless something else still needs it.

    When it ends, the case's group hears it the way ``participant_remove``
    announces a removal, so an open ``/ws/cases/<id>/`` socket of the
    specialist re-checks access on commit and is closed with 4403 if the
    consult was their only way in.
    """
    if not consult.granted_access or consult.assignee_id is None:
        return False
    specialist = consult.assignee
    if consultant_still_needed(consult.case, specialist, excluding=consult.pk):
        return False
    participant = CaseParticipant.objects.filter(
        case=consult.case, user=specialist, role=CaseParticipant.Role.CONSULTANT
    ).first()
    if participant is None:  # the owner already changed or removed them
        return False
    if consult.previous_role:
        participant.role = consult.previous_role
        participant.save(update_fields=["role"])
    else:
        participant.delete()
    _event(consult, ConsultEvent.Kind.ACCESS_ENDED, by)
    audit.record(
        actor=by,
        verb="case.participant_remove",
        target=consult.case,
        case_id=consult.case_id,
        ip=ip,
        data={
            "user": specialist.username,
            "role": CaseParticipant.Role.CONSULTANT,
            "consult": consult.pk,
            "restored_role": consult.previous_role,
        },
    )
    case = consult.case
    broadcast_on_commit(
        case_group(case),
        {
            "type": "case.updated",
            "case": case.pk,
            "status": case.status,
            "visibility": case.visibility,
            "participants": True,
        },
    )
    return True


def _text(value: str, field: str, errors: dict[str, str], *, required=False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = "This field is required."
    elif len(value) > MAX_TEXT:
        errors[field] = f"Keep this under {MAX_TEXT:,} characters."
    return value


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


# --- The specialist's steps ---------------------------------------------------------


def _refuse_state(consult: ConsultRequest, action: str) -> None:
    state = consult.get_status_display().lower()
    by_specialist = consult.status in (S.ACCEPTED, S.ANSWERED, S.DECLINED)
    who = (
        f" by {consult.assignee.display_name}"
        if by_specialist and consult.assignee_id
        else ""
    )
    raise ServiceError(f"You can't {action} this consult: it was already {state}{who}.")


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
    phi_gate(
        fields={"reason": reason},
        dismissed=dismissed,
        by=by,
        surface="consult.decline",
        target=consult,
        case_id=consult.case_id,
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
    phi_gate(
        fields=texts,
        dismissed=dismissed,
        by=by,
        surface="consult.answer",
        target=consult,
        case_id=consult.case_id,
        ip=ip,
    )
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
    phi_gate(
        fields={"reason": reason},
        dismissed=dismissed,
        by=by,
        surface="consult.cancel",
        target=consult,
        case_id=consult.case_id,
        ip=ip,
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


def due_default(urgency: str) -> timedelta:
    """How long an urgency gives by default (for forms)."""
    return ConsultRequest.DEFAULT_DUE[ConsultRequest.Urgency(urgency)]
