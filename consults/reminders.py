"""Due-soon reminders and overdue escalation for open consults.

``manage.py consults_escalate`` runs :func:`consults_escalate` from cron. Each
consult gets each reminder at most once, however often it runs (a once-only
key per consult and reminder is claimed in the transaction that notifies):

- *due soon*: an open consult with a specialist (named or accepted) whose
  remaining time is at most a quarter of the time it was given (routine 72 h →
  the last 18 h, urgent 24 h → 6 h, emergent 1 h → 15 minutes) notifies that
  specialist;
- *overdue*: an open consult past its due time notifies the requester, the
  specialist if there is one, and the specialty's verified specialists (at most
  ``NOTIFY_SPECIALISTS_MAX``), so someone else can step in.

The reminders are ordinary ``consult`` notifications with ``data["reminder"]``
set: they show in the app and :mod:`workspace.mail` e-mails them (title and
link only) to whoever has that e-mail switched on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from consults.models import ConsultRequest
from consults.services._common import NOTIFY_SPECIALISTS_MAX, _url
from workspace.mail.models import EmailKind
from workspace.mail.sending import once_claim
from workspace.models import Notification, User
from workspace.services import notification_create

# The reminder comes when this share of the consult's time is left.
DUE_SOON_SHARE = 0.25


@dataclass(frozen=True)
class EscalationReport:
    due_soon: int
    overdue: int


def _in_words(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{round(minutes / 60)} hours"


def _is_due_soon(consult: ConsultRequest, now: datetime) -> bool:
    allotted = consult.due_at - consult.created
    return consult.due_at - now <= allotted * DUE_SOON_SHARE


def _notify(
    users: list[User], consult: ConsultRequest, reminder: str, title: str, body: str
) -> None:
    for user in users:
        notification_create(
            user=user,
            kind=Notification.Kind.CONSULT,
            title=title,
            body=body,
            url=_url(consult),
            data={"consult": consult.pk, "case": consult.case_id, "reminder": reminder},
        )


def _specialists(consult: ConsultRequest) -> list[User]:
    if consult.specialty_id is None:
        return []
    return list(
        User.objects.filter(
            kind=User.Kind.CLINICIAN,
            is_active=True,
            clinician_profile__verification="verified",
            clinician_profile__specialties=consult.specialty_id,
        ).order_by("pk")[:NOTIFY_SPECIALISTS_MAX]
    )


def _remind_due_soon(consult: ConsultRequest, now: datetime) -> bool:
    with transaction.atomic():
        if not once_claim(
            key=f"consult.{consult.pk}.due_soon", kind=EmailKind.CONSULT_DUE_SOON
        ):
            return False
        _notify(
            [consult.assignee],
            consult,
            "due_soon",
            f"Due in {_in_words(consult.due_at - now)}: the consult on "
            f"“{consult.case.title}”",
            f"{consult.get_urgency_display()} consult from "
            f"{consult.requested_by.display_name}, "
            f"{consult.get_status_display().lower()}.",
        )
    return True


def _escalate_overdue(consult: ConsultRequest) -> bool:
    with transaction.atomic():
        if not once_claim(
            key=f"consult.{consult.pk}.overdue", kind=EmailKind.CONSULT_OVERDUE
        ):
            return False
        people: dict[int, User] = {consult.requested_by_id: consult.requested_by}
        if consult.assignee_id:
            people[consult.assignee_id] = consult.assignee
        for specialist in _specialists(consult):
            people.setdefault(specialist.pk, specialist)
        waiting = (
            f"still waiting for {consult.assignee.display_name}"
            if consult.assignee_id
            else f"no {consult.specialty.name} specialist has taken it"
        )
        _notify(
            list(people.values()),
            consult,
            "overdue",
            f"Overdue: the {consult.get_urgency_display().lower()} consult on "
            f"“{consult.case.title}”",
            f"Asked by {consult.requested_by.display_name}; {waiting}.",
        )
    return True


def consults_escalate(*, now: datetime | None = None) -> EscalationReport:
    """Send every due-soon reminder and overdue escalation not yet sent."""
    now = now or timezone.now()
    open_consults = ConsultRequest.objects.filter(
        status__in=ConsultRequest.OPEN_STATUSES
    ).select_related("case", "requested_by", "assignee", "specialty")
    overdue = sum(
        _escalate_overdue(consult)
        for consult in open_consults.filter(due_at__lte=now).order_by("due_at")
    )
    due_soon = sum(
        _remind_due_soon(consult, now)
        for consult in open_consults.filter(
            due_at__gt=now, assignee__isnull=False
        ).order_by("due_at")
        if _is_due_soon(consult, now)
    )
    return EscalationReport(due_soon=due_soon, overdue=overdue)
