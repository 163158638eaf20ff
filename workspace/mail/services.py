"""Which notifications become e-mails, the mention digest, and unsubscribing.

The notification path calls :func:`notification_email_on_commit` for every
notification it stores; nothing else in the services has to know about
e-mail. The mapping from a notification to an e-mail kind:

- ``consult`` with ``data["reminder"]`` ``due_soon`` / ``overdue`` (from
  ``manage.py consults_escalate``) → that reminder;
- ``consult`` with ``data["status"]`` ``requested`` → *assigned* (to the named
  specialist, or to each verified specialist of the specialty),
  ``accepted`` → *accepted*, ``answered`` → *answered* (to the requester side);
- ``submission`` to a patient → *your clinician replied* (no content at all);
- ``mention`` → the recipient's pending digest, e-mailed when still unread
  after their digest delay while they have no page open (Zulip's
  missed-message e-mails);
- anything else stays in the app.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone

from workspace import audit
from workspace.models import Notification, User
from workspace.online import user_is_online

from .models import EmailKind, EmailPreference, PendingMention
from .sending import absolute, email_deliverable, mail_send, preference_for

CONSULT_STATUS_KINDS = {
    "requested": EmailKind.CONSULT_ASSIGNED,
    "accepted": EmailKind.CONSULT_ACCEPTED,
    "answered": EmailKind.CONSULT_ANSWERED,
}
REMINDER_KINDS = {
    "due_soon": EmailKind.CONSULT_DUE_SOON,
    "overdue": EmailKind.CONSULT_OVERDUE,
}
# What each consult e-mail says under its subject (never the consult's text).
CONSULT_LEADS = {
    EmailKind.CONSULT_ASSIGNED: "A consult is waiting for you in Consilium.",
    EmailKind.CONSULT_ACCEPTED: "A specialist has taken your consult.",
    EmailKind.CONSULT_ANSWERED: "Your consult has an answer.",
    EmailKind.CONSULT_DUE_SOON: "A consult you took is nearly due.",
    EmailKind.CONSULT_OVERDUE: "A consult is past its due time.",
}
PATIENT_SUBJECT = "Your clinician replied to your submission"


def email_kind_for(notification: Notification) -> str | None:
    """The e-mail kind a notification turns into, or None for in-app only."""
    data = notification.data or {}
    if notification.kind == Notification.Kind.MENTION:
        return EmailKind.MENTION
    if notification.kind == Notification.Kind.CONSULT:
        if data.get("reminder") in REMINDER_KINDS:
            return REMINDER_KINDS[data["reminder"]]
        return CONSULT_STATUS_KINDS.get(data.get("status"))
    if (
        notification.kind == Notification.Kind.SUBMISSION
        and notification.user.is_patient
    ):
        return EmailKind.SUBMISSION_REPLY
    return None


def notification_email_on_commit(notification: Notification) -> None:
    """Queue the e-mail a new notification calls for, once its transaction commits."""
    from .tasks import notification_email

    kind = email_kind_for(notification)
    if kind is None:
        return
    user = notification.user
    if kind == EmailKind.MENTION:
        pref = preference_for(user)
        if not (email_deliverable(user) and pref.allows(kind)):
            return
        PendingMention.objects.create(
            notification=notification, user=user, created=notification.created
        )
        user_id, delay = user.pk, pref.digest_delay_minutes
        transaction.on_commit(lambda: _digest_schedule(user_id, delay))
        return
    notification_id = notification.pk
    transaction.on_commit(
        lambda: notification_email.enqueue(notification_id=notification_id)
    )


def _digest_schedule(user_id: int, delay_minutes: int) -> None:
    """Check the user's digest when the delay is up (cron catches the rest)."""
    from .tasks import mention_digest

    if not default_task_backend.supports_defer:
        return
    run_after = timezone.now() + timedelta(minutes=delay_minutes, seconds=5)
    mention_digest.using(run_after=run_after).enqueue(user_id=user_id)


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification (consult step or patient reply); True when sent.

    Re-reads everything: a notification already read in the app, or whose
    kind no longer calls for an e-mail, sends nothing.
    """
    notification = (
        Notification.objects.select_related("user").filter(pk=notification_id).first()
    )
    if notification is None or notification.read_at is not None:
        return False
    kind = email_kind_for(notification)
    if kind is None or kind == EmailKind.MENTION:
        return False
    user = notification.user
    key = f"notification.{notification.pk}"
    if kind == EmailKind.SUBMISSION_REPLY:
        # Patients: nothing about what they sent or what was said, and no
        # clinician's name; only that there is something to read, and where.
        return mail_send(
            user=user,
            kind=kind,
            key=key,
            subject=PATIENT_SUBJECT,
            template="submission_reply",
            context={"portal_url": absolute(reverse("portal"))},
        )
    return mail_send(
        user=user,
        kind=kind,
        key=key,
        subject=notification.title,
        template="consult",
        context={
            "headline": notification.title,
            "lead": CONSULT_LEADS[kind],
            "url": absolute(notification.url or reverse("notification_list")),
        },
    )


def mention_digests_send(
    *, now: datetime | None = None, user_id: int | None = None
) -> int:
    """Send every mention digest that is due; returns how many were sent.

    A user's digest is due when their oldest pending mention is older than
    their digest delay and they have no page open. It lists every mention
    still unread since their last digest, then those mentions are done:
    each mention is e-mailed at most once. Mentions read in the meantime, or
    whose recipient turned mention e-mails off, are dropped.
    """
    now = now or timezone.now()
    pending = PendingMention.objects.filter(state=PendingMention.State.PENDING)
    if user_id is not None:
        pending = pending.filter(user_id=user_id)
    pending.filter(notification__read_at__isnull=False).update(
        state=PendingMention.State.DROPPED
    )
    user_ids = sorted(set(pending.values_list("user_id", flat=True)))
    return sum(_digest_send(uid, now) for uid in user_ids)


def _digest_send(user_id: int, now: datetime) -> int:
    user = User.objects.filter(pk=user_id).first()
    rows = PendingMention.objects.filter(
        user_id=user_id, state=PendingMention.State.PENDING
    )
    pref = preference_for(user)
    if user is None or not (email_deliverable(user) and pref.allows(EmailKind.MENTION)):
        rows.update(state=PendingMention.State.DROPPED)
        return 0
    oldest = rows.order_by("created").first()
    if oldest is None or oldest.created > now - timedelta(
        minutes=pref.digest_delay_minutes
    ):
        return 0
    if user_is_online(user_id):
        # They would see it arrive; try again once they have left.
        return 0
    with transaction.atomic():
        items = list(
            rows.select_for_update()
            .select_related("notification")
            .filter(notification__read_at__isnull=True)
            .order_by("created", "id")
        )
        if not items:
            return 0
        claimed = PendingMention.objects.filter(
            pk__in=[item.pk for item in items], state=PendingMention.State.PENDING
        ).update(state=PendingMention.State.SENT, emailed_at=now)
        if claimed != len(items):
            # Another worker is sending this digest.
            transaction.set_rollback(True)
            return 0
        mentions = [
            {
                "title": item.notification.title,
                "url": absolute(item.notification.url or reverse("notification_list")),
                "created": item.notification.created,
            }
            for item in items
        ]
        subject = (
            mentions[0]["title"]
            if len(mentions) == 1
            else f"You were mentioned {len(mentions)} times in Consilium"
        )
        sent = mail_send(
            user=user,
            kind=EmailKind.MENTION,
            key=f"digest.{user_id}.{items[0].notification_id}",
            subject=subject,
            template="mention_digest",
            context={"mentions": mentions},
        )
    return int(sent)


# Mentions older than this are no longer news: they are not e-mailed (someone
# who kept a page open for a week has seen the badge), and finished rows go.
PENDING_MENTION_MAX_AGE = timedelta(days=7)


def pending_mentions_prune(*, now: datetime | None = None) -> int:
    """Drop stale pending mentions and delete old finished ones; returns deletions."""
    cutoff = (now or timezone.now()) - PENDING_MENTION_MAX_AGE
    old = PendingMention.objects.filter(created__lt=cutoff)
    # Delete what was finished before this run; the ones dropped now go on
    # the next run.
    deleted, _ = old.exclude(state=PendingMention.State.PENDING).delete()
    old.filter(state=PendingMention.State.PENDING).update(
        state=PendingMention.State.DROPPED
    )
    return deleted


# --- Preferences and unsubscribing ---------------------------------------------------


@transaction.atomic
def email_preference_update(
    *, user: User, changes: dict, ip: str | None = None
) -> EmailPreference:
    """Save ``user``'s e-mail preferences (field name → value) and audit the change."""
    pref, _ = EmailPreference.objects.select_for_update().get_or_create(user=user)
    allowed = {*EmailKind.values, "digest_minutes", "unsubscribed_all"}
    fields = []
    for name, value in changes.items():
        if name in allowed and getattr(pref, name) != value:
            setattr(pref, name, value)
            fields.append(name)
    if fields:
        pref.save(update_fields=[*fields, "updated"])
        audit.record(
            actor=user,
            verb="email.preferences",
            target=user,
            ip=ip,
            data={name: getattr(pref, name) for name in fields},
        )
    return pref


def email_unsubscribe(
    *, user: User, kind: str | None, ip: str | None = None
) -> EmailPreference:
    """Stop one kind of e-mail (``kind``) or all of them (``kind=None``)."""
    changes = {"unsubscribed_all": True} if kind is None else {kind: False}
    return email_preference_update(user=user, changes=changes, ip=ip)
