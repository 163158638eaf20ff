"""Specialist consults on a case, and the timeline of each one.

A consult goes ``requested → accepted → answered → closed``; it may instead
end ``declined`` (by the specialist) or ``cancelled`` (by the requester or the
case owner) before it is answered. The transitions live in
``consults.services``; the model only stores the state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from cases.models.case import Case
from workspace.markdown import render_markdown
from workspace.models import Specialty

__all__ = ["ConsultEvent", "ConsultRequest"]


class ConsultRequest(models.Model):
    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        EMERGENT = "emergent", "Emergent"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    # How long each urgency gives the specialist by default (editable per consult).
    DEFAULT_DUE = {
        Urgency.ROUTINE: timedelta(hours=72),
        Urgency.URGENT: timedelta(hours=24),
        Urgency.EMERGENT: timedelta(hours=1),
    }
    # Queue order: the most urgent first.
    URGENCY_RANK = {Urgency.EMERGENT: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}
    OPEN_STATUSES = (Status.REQUESTED, Status.ACCEPTED)
    # The specialist still holds consultant access through the consult.
    ACTIVE_STATUSES = (Status.ACCEPTED, Status.ANSWERED)
    FINAL_STATUSES = (Status.CLOSED, Status.DECLINED, Status.CANCELLED)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consults")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consults_requested",
    )
    specialty = models.ForeignKey(
        Specialty,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consults",
    )
    # The named specialist, or whoever accepted a specialty-wide request.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consults_assigned",
    )
    question = models.TextField()
    urgency = models.CharField(
        max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    # Structured answer (markdown).
    impression = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    follow_up = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    # Safe HTML of the markdown fields above, rendered on save (see html()).
    question_html = models.TextField(blank=True, editable=False)
    impression_html = models.TextField(blank=True, editable=False)
    recommendations_html = models.TextField(blank=True, editable=False)
    follow_up_html = models.TextField(blank=True, editable=False)
    # True when accepting made the specialist a participant (so closing may end it).
    granted_access = models.BooleanField(default=False)
    # A viewer who accepts becomes a consultant; this role is restored after.
    previous_role = models.CharField(max_length=16, blank=True)
    kept_as_consultant = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Moved from cases: the table keeps its name.
        db_table = "cases_consultrequest"
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(specialty__isnull=False)
                | models.Q(assignee__isnull=False),
                name="consult_has_specialty_or_assignee",
            )
        ]
        indexes = [
            models.Index(fields=["status", "specialty"], name="consult_queue"),
        ]

    MARKDOWN_FIELDS = ("question", "impression", "recommendations", "follow_up")

    def __str__(self) -> str:
        return f"Consult on {self.case}: {self.target_label}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        names = (
            self.MARKDOWN_FIELDS
            if update_fields is None
            else [n for n in self.MARKDOWN_FIELDS if n in update_fields]
        )
        self.render_markdown_fields(names)
        if update_fields is not None and names:
            kwargs["update_fields"] = {*update_fields, *(f"{n}_html" for n in names)}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("consult_detail", args=[self.pk])

    def render_markdown_fields(self, names: Iterable[str] = MARKDOWN_FIELDS) -> None:
        """Set ``<name>_html`` from the markdown fields ``names``.

        The services render the text ahead of their write transaction
        (``workspace.markdown.rendered_ahead``), so this is a lookup there.
        """
        for name in names:
            setattr(self, f"{name}_html", render_markdown(getattr(self, name) or ""))

    def html(self, name: str) -> SafeString:
        """The stored safe HTML of markdown field ``name``, for templates.

        Only ever holds :func:`render_markdown` output (bleach allow-list).
        A row stored before the field existed is rendered here, once per view,
        until ``manage.py rerender_markdown`` fills it.
        """
        stored = getattr(self, f"{name}_html")
        if not stored and (getattr(self, name) or "").strip():
            stored = render_markdown(getattr(self, name))
        return mark_safe(stored)  # noqa: S308

    @property
    def target_label(self) -> str:
        if self.assignee_id and self.specialty_id:
            return f"{self.assignee.display_name} ({self.specialty.name})"
        if self.assignee_id:
            return self.assignee.display_name
        return self.specialty.name

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    @classmethod
    def default_due(cls, urgency: str, *, now=None):
        return (now or timezone.now()) + cls.DEFAULT_DUE[cls.Urgency(urgency)]


class ConsultEvent(models.Model):
    """One step in a consult's life, shown as its timeline."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        ACCESS_ENDED = "access_ended", "Consultant access ended"
        KEPT = "kept", "Kept as consultant"

    consult = models.ForeignKey(
        ConsultRequest, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        # Moved from cases: the table keeps its name.
        db_table = "cases_consultevent"
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor}"
