"""Per-user e-mail preferences and the state that makes every e-mail once-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EmailKind(models.TextChoices):
    """Every kind of notification e-mail; each value is a preference field."""

    CONSULT_ASSIGNED = "consult_assigned", "A consult is asked of me or my specialty"
    CONSULT_ACCEPTED = "consult_accepted", "A specialist accepted my consult"
    CONSULT_ANSWERED = "consult_answered", "A specialist answered my consult"
    CONSULT_DUE_SOON = "consult_due_soon", "A consult I took is nearly due"
    CONSULT_OVERDUE = (
        "consult_overdue",
        "A consult I asked, took or could take is overdue",
    )
    MENTION = "mention", "Someone mentioned me while I was away"
    SUBMISSION_REPLY = "submission_reply", "My clinician replied to what I sent"


CLINICIAN_KINDS = (
    EmailKind.CONSULT_ASSIGNED,
    EmailKind.CONSULT_ACCEPTED,
    EmailKind.CONSULT_ANSWERED,
    EmailKind.CONSULT_DUE_SOON,
    EmailKind.CONSULT_OVERDUE,
    EmailKind.MENTION,
)
PATIENT_KINDS = (EmailKind.SUBMISSION_REPLY,)


class EmailPreference(models.Model):
    """What a user wants e-mailed; a user without a row gets the defaults."""

    DIGEST_CHOICES = [
        (5, "after 5 minutes"),
        (15, "after 15 minutes"),
        (60, "after an hour"),
    ]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="email_preference",
    )
    consult_assigned = models.BooleanField(
        default=True, verbose_name=EmailKind.CONSULT_ASSIGNED.label
    )
    consult_accepted = models.BooleanField(
        default=True, verbose_name=EmailKind.CONSULT_ACCEPTED.label
    )
    consult_answered = models.BooleanField(
        default=True, verbose_name=EmailKind.CONSULT_ANSWERED.label
    )
    consult_due_soon = models.BooleanField(
        default=True, verbose_name=EmailKind.CONSULT_DUE_SOON.label
    )
    consult_overdue = models.BooleanField(
        default=True, verbose_name=EmailKind.CONSULT_OVERDUE.label
    )
    mention = models.BooleanField(default=True, verbose_name=EmailKind.MENTION.label)
    submission_reply = models.BooleanField(
        default=True, verbose_name=EmailKind.SUBMISSION_REPLY.label
    )
    # None means the site default (settings.NOTIFICATION_DIGEST_MINUTES).
    digest_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=DIGEST_CHOICES,
        verbose_name="E-mail unread mentions",
    )
    unsubscribed_all = models.BooleanField(
        default=False, verbose_name="Send me no notification e-mails at all"
    )
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"E-mail preferences of {self.user}"

    def allows(self, kind: str) -> bool:
        return not self.unsubscribed_all and bool(getattr(self, kind, False))

    @property
    def digest_delay_minutes(self) -> int:
        return self.digest_minutes or settings.NOTIFICATION_DIGEST_MINUTES


class EmailDelivery(models.Model):
    """One e-mail (or once-only step) per ``key``: the unique key makes retries safe.

    Keys: ``notification.<id>`` for an e-mail about one notification,
    ``digest.<user>.<first mention id>`` for a mention digest, and
    ``consult.<id>.<reminder>`` for the reminder a consult gets once.
    """

    key = models.CharField(max_length=120, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(max_length=24, choices=EmailKind.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return self.key


class PendingMention(models.Model):
    """A mention waiting to be e-mailed in the recipient's next digest."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "E-mailed"
        DROPPED = "dropped", "Read first, or e-mail turned off"

    notification = models.OneToOneField(
        "workspace.Notification", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"mention {self.notification_id} for {self.user_id} ({self.state})"
