"""Cases and who takes part in them.

Other case-owned models (differentials, consults, submissions) live in their
own modules, re-exported by the package so Django finds them.

Markdown fields are rendered to safe HTML once, on save, into ``rendered``
(keyed by field name, with the renderer version under ``"_v"``): a case page
is read far more often than it is written, and rendering is the slowest part
of showing one.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from workspace.markdown import render_markdown
from workspace.models import Specialty, Workspace

__all__ = [
    "AgeBand",
    "Case",
    "CaseInvitation",
    "CaseParticipant",
    "JoinRequest",
    "Sex",
    "Tag",
]

# Bump when workspace.markdown changes its output, so stale caches re-render.
RENDER_VERSION = 1


class AgeBand(models.TextChoices):
    """Safe Harbor allows ages only as bands, and everyone over 89 as one."""

    UNDER_1 = "<1", "Under 1"
    Y1_4 = "1–4", "1–4"
    Y5_9 = "5–9", "5–9"
    Y10_14 = "10–14", "10–14"
    Y15_17 = "15–17", "15–17"
    Y18_29 = "18–29", "18–29"
    Y30_39 = "30–39", "30–39"
    Y40_49 = "40–49", "40–49"
    Y50_59 = "50–59", "50–59"
    Y60_69 = "60–69", "60–69"
    Y70_79 = "70–79", "70–79"
    Y80_89 = "80–89", "80–89"
    OVER_89 = "90+", "90 or over"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not stated"


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)
    slug = models.SlugField(max_length=48, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:48]
        super().save(*args, **kwargs)


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RESOLVED = "resolved", "Resolved"
        ARCHIVED = "archived", "Archived"

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private — invited participants only"
        WORKSPACE = "workspace", "Workspace — members of the workspace"
        COMMUNITY = "community", "Community — every verified clinician"

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cases"
    )
    title = models.CharField(max_length=200)
    specialty = models.ForeignKey(
        Specialty,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    sex = models.CharField(max_length=12, choices=Sex.choices, default=Sex.UNKNOWN)
    presenting_complaint = models.TextField(blank=True)
    history = models.TextField(blank=True, help_text="Markdown")
    examination = models.TextField(blank=True, help_text="Markdown")
    investigations = models.TextField(blank=True, help_text="Markdown")
    working_notes = models.TextField(blank=True, help_text="Markdown")
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    visibility = models.CharField(
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
        db_index=True,
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    final_diagnosis = models.CharField(max_length=200, blank=True)
    # Independent mode (see cases.services.rounds): each voter's likelihoods
    # stay theirs alone until they submit their round or the owner reveals
    # the consensus. On by default for community cases (set by case_create).
    independent = models.BooleanField(
        "independent differentials",
        default=False,
        help_text="Participants record their differential before they see "
        "anyone else's votes or the consensus.",
    )
    consensus_revealed_at = models.DateTimeField(null=True, blank=True)
    # The last PHI scan (list of findings as dicts) and the finding keys the
    # publisher explicitly dismissed as not identifying.
    phi_scan = models.JSONField(default=list, blank=True)
    phi_dismissed = models.JSONField(default=list, blank=True)
    phi_scanned_at = models.DateTimeField(null=True, blank=True)
    deid_attestation = models.TextField(blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    # Messages in a case are numbered consecutively (see the WebSocket protocol).
    last_message_seq = models.PositiveBigIntegerField(default=0)
    # Safe HTML of the markdown fields, rendered on save (see module docstring).
    rendered = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-published_at", "-created"]
        indexes = [
            models.Index(
                fields=["status", "visibility", "-published_at"], name="case_feed"
            ),
        ]

    TEXT_FIELDS = (
        "title",
        "presenting_complaint",
        "history",
        "examination",
        "investigations",
        "working_notes",
    )
    MARKDOWN_FIELDS = (
        "presenting_complaint",
        "history",
        "examination",
        "investigations",
        "working_notes",
    )

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.render_markdown_fields()
        elif changed := set(update_fields) & set(self.MARKDOWN_FIELDS):
            self.render_markdown_fields(only=changed)
            kwargs["update_fields"] = {*update_fields, "rendered"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("case_detail", args=[self.pk])

    def text_fields(self) -> dict[str, str]:
        return {name: getattr(self, name) or "" for name in self.TEXT_FIELDS}

    def render_markdown_fields(self, only: Collection[str] | None = None) -> None:
        """Refresh ``rendered`` from the markdown fields (or just ``only``).

        Services render the new text ahead of their transaction
        (``workspace.markdown.rendered_ahead``), so here it is a lookup; the
        fields not in ``only`` keep their current HTML.
        """
        current = self.rendered if self.rendered.get("_v") == RENDER_VERSION else {}
        rendered: dict[str, str | int] = {
            name: (
                current[name]
                if only is not None and name not in only and name in current
                else render_markdown(getattr(self, name) or "")
            )
            for name in self.MARKDOWN_FIELDS
        }
        rendered["_v"] = RENDER_VERSION
        self.rendered = rendered

    def html(self, name: str) -> SafeString:
        """Safe HTML for a markdown field, from the cache when it is current.

        Only ever holds :func:`render_markdown` output (bleach allow-list),
        so it is marked safe for templates.
        """
        if self.rendered.get("_v") != RENDER_VERSION or name not in self.rendered:
            return mark_safe(render_markdown(getattr(self, name) or ""))  # noqa: S308
        return mark_safe(str(self.rendered[name]))  # noqa: S308

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_open(self) -> bool:
        """Published or resolved: the states others may see it in."""
        return self.status in (self.Status.PUBLISHED, self.Status.RESOLVED)


class CaseParticipant(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        COLLABORATOR = "collaborator", "Collaborator"
        CONSULTANT = "consultant", "Consultant"
        VIEWER = "viewer", "Viewer"

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="case_participations",
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], name="unique_case_participant"
            )
        ]
        ordering = ["case", "role", "created"]

    def __str__(self) -> str:
        return f"{self.user} on {self.case} ({self.role})"


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


class CaseInvitation(models.Model):
    """An invitation to a case sent to an address no account has confirmed.

    It goes out as a token link; whichever verified clinician logs in through
    it first becomes the participant, once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=CaseParticipant.Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Invitation to {self.case} for {self.email}"

    def get_absolute_url(self) -> str:
        return reverse("case_invitation", args=[self.token])


class JoinRequest(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="join_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], name="one_join_request_per_user_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.case}"
