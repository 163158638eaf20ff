"""What the consult steps share: the lock (the case row first), the timeline
event, the audit record, the notification and the ``consult.updated`` frame
(see :mod:`consults.services`), and the refusals of a wrong state.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.urls import reverse

from cases.models import Case
from cases.phi_gate import phi_gate
from consults.models import ConsultEvent, ConsultRequest
from workspace import audit
from workspace.events import broadcast_on_commit, case_group
from workspace.models import Notification, User
from workspace.services import ServiceError, notification_create

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


def _gate(
    consult: ConsultRequest,
    surface: str,
    fields: dict[str, str],
    *,
    by: User,
    dismissed: Collection[str],
    ip: str | None,
) -> None:
    """The PHI gate (:func:`cases.phi_gate.phi_gate`) on text the other side
    of ``consult`` reads: raises ``PHIFound`` while a finding is neither
    fixed nor in ``dismissed``."""
    phi_gate(
        fields=fields,
        dismissed=dismissed,
        by=by,
        surface=surface,
        target=consult,
        case_id=consult.case_id,
        ip=ip,
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


def _text(value: str, field: str, errors: dict[str, str], *, required=False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = "This field is required."
    elif len(value) > MAX_TEXT:
        errors[field] = f"Keep this under {MAX_TEXT:,} characters."
    return value


def _refuse_state(consult: ConsultRequest, action: str) -> None:
    state = consult.get_status_display().lower()
    by_specialist = consult.status in (S.ACCEPTED, S.ANSWERED, S.DECLINED)
    who = (
        f" by {consult.assignee.display_name}"
        if by_specialist and consult.assignee_id
        else ""
    )
    raise ServiceError(f"You can't {action} this consult: it was already {state}{who}.")
