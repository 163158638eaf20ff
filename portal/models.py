"""What patients send their clinician, and the findings made of it on cases.

A ``Submission`` travels from one patient to one of their clinicians: a photo
or video (``asset``, the patient's copy: sniffed, size-capped and stripped of
metadata by the media pipeline, but not blurred, because it never leaves the
patient–clinician pair), a social-media link (``link``), or both, with a
description and the consent the patient gave.

Status moves ``submitted → reviewed → attached | dismissed``; the patient may
withdraw it at any point, and withdrawing an attached one removes every case
copy (the finding becomes a tombstone, "withdrawn by the patient"). The
transitions live in ``portal.services``.

A ``FindingLink`` is a submission put on a differential entry of a case. It
holds everything a case participant may see of the finding, copied at attach
time: a new, case-grade de-identified ``MediaAsset`` (never the patient's
copy) and/or the link's canonical URL, with the relation and the clinician's
note. Case pages read findings only through ``portal.selectors``,
which never follows ``submission`` to the patient.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from cases.models.case import Case
from media_handling.models import MediaAsset
from portal.social_links import SocialLinkError, parse_social_link

__all__ = ["FindingLink", "SocialLink", "Submission"]

# What the patient ticks, stored with each submission; kept short so it is
# read. The portal's "More about privacy" section says the rest.
CONSENT_TEXT = (
    "I agree to share this with my clinician for my care. My clinician may "
    "show a copy to other clinicians working on a case, without my name, my "
    "description or the file's hidden details; faces are blurred first. "
    "I can withdraw it at any time, which deletes my file and every copy "
    "shared on a case."
)


class SocialLink(models.Model):
    """A link a patient pasted, parsed by ``portal.social_links``."""

    class Platform(models.TextChoices):
        TIKTOK = "tiktok", "TikTok"
        YOUTUBE = "youtube", "YouTube"
        INSTAGRAM = "instagram", "Instagram"
        REDDIT = "reddit", "Reddit"
        X = "x", "X (Twitter)"
        FACEBOOK = "facebook", "Facebook"
        OTHER = "other", "Website"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    # Exactly what the patient pasted (handles, sharer ids and all); shown
    # only to them and their clinician.
    url = models.CharField(max_length=2048)
    # Rebuilt from the content id alone (``portal.social_links``): the only
    # form that reaches a case. Empty when none can be made offline (share
    # links, profiles), and then the link never leaves the clinician.
    canonical_url = models.CharField(max_length=2048, blank=True)
    content_id = models.CharField(max_length=100, blank=True)
    embed_url = models.CharField(max_length=2048, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Moved from cases: the table keeps its name.
        db_table = "cases_sociallink"
        indexes = [models.Index(fields=["canonical_url"], name="sociallink_canonical")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} link"

    @property
    def host(self) -> str:
        return urlsplit(self.canonical_url or self.url).hostname or ""

    @property
    def case_safe(self) -> bool:
        """Whether a case may show this link (as ``canonical_url``)."""
        return bool(self.canonical_url)

    @property
    def private_reason(self) -> str:
        """Why only the clinician sees this link; "" when a case may show it."""
        if self.canonical_url:
            return ""
        try:
            return parse_social_link(self.url).private_reason
        except SocialLinkError:
            return "This link can't be shown on a case."


class Submission(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        REVIEWED = "reviewed", "Reviewed"
        ATTACHED = "attached", "Added to a case"
        DISMISSED = "dismissed", "Dismissed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Credibility(models.TextChoices):
        UNRATED = "unrated", "Not rated"
        CREDIBLE = "credible", "Credible"
        UNCERTAIN = "uncertain", "Uncertain"
        MISINFORMATION = "misinformation", "Misinformation"

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="submissions",
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="received_submissions",
    )
    asset = models.OneToOneField(
        MediaAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submission",
    )
    link = models.OneToOneField(
        SocialLink,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submission",
    )
    description = models.TextField(max_length=4000)
    # The words the patient agreed to, as shown to them, and when.
    consent_text = models.TextField()
    consent_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    credibility = models.CharField(
        max_length=16, choices=Credibility.choices, default=Credibility.UNRATED
    )
    # The clinician's private reasoning about the rating.
    credibility_note = models.TextField(blank=True, max_length=4000)
    # What the clinician tells the patient; the patient sees it.
    clinician_note = models.TextField(blank=True, max_length=4000)
    clinician_note_at = models.DateTimeField(null=True, blank=True)
    # When the clinician first opened it (unread until then).
    read_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        # Moved from cases: the table keeps its name.
        db_table = "cases_submission"
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["clinician", "-created"], name="submission_inbox"),
            models.Index(fields=["clinician", "read_at"], name="submission_unread"),
            models.Index(fields=["patient", "-created"], name="submission_patient"),
        ]
        constraints = [
            # A withdrawn submission's file is deleted; it may be left empty.
            models.CheckConstraint(
                condition=models.Q(asset__isnull=False)
                | models.Q(link__isnull=False)
                | models.Q(status="withdrawn"),
                name="submission_has_content",
                violation_error_message="A submission needs a file or a link.",
            )
        ]

    def __str__(self) -> str:
        return f"Submission {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        """Still waiting for the clinician's decision."""
        return self.status in (self.Status.SUBMITTED, self.Status.REVIEWED)

    @property
    def can_withdraw(self) -> bool:
        return self.status != self.Status.WITHDRAWN

    @property
    def can_attach(self) -> bool:
        return self.status in (
            self.Status.SUBMITTED,
            self.Status.REVIEWED,
            self.Status.ATTACHED,
        )

    @property
    def kind_label(self) -> str:
        parts = []
        if self.asset_id:
            parts.append(self.asset.get_kind_display() if self.asset else "File")
        if self.link_id:
            parts.append(self.link.get_platform_display() if self.link else "Link")
        return " + ".join(parts)


class FindingLink(models.Model):
    """A submission as evidence on one differential entry, de-identified."""

    class Relation(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        REFUTES = "refutes", "Refutes"
        CONTEXT = "context", "Context"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="findings"
    )
    differential = models.ForeignKey(
        "diagnoses.Differential", on_delete=models.CASCADE, related_name="findings"
    )
    # The differential's case, kept here so a case page loads all its
    # findings in one query.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    relation = models.CharField(max_length=10, choices=Relation.choices)
    note = models.TextField(blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The case-grade copy of the patient's photo or video: a separate asset,
    # made from the patient's file and de-identified again for the case.
    asset = models.ForeignKey(
        MediaAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
    )
    # The clinician's choice when attaching: blur every face found in the copy
    # (the default); the copy is reviewed before the case sees it either way.
    blur_faces = models.BooleanField(default=True)
    # The link as a case may show it: canonical form, no patient words.
    platform = models.CharField(
        max_length=16, choices=SocialLink.Platform.choices, blank=True
    )
    canonical_url = models.CharField(max_length=2048, blank=True)
    embed_url = models.CharField(max_length=2048, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Set when the patient withdrew the submission: the row stays as a
    # tombstone in its place on the case, emptied of everything shared.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Moved from cases: the table keeps its name.
        db_table = "cases_findinglink"
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["case", "created"], name="finding_case")]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "differential"],
                name="one_finding_per_submission_differential",
                violation_error_message="This is already attached to that diagnosis.",
            )
        ]

    def __str__(self) -> str:
        return f"Finding {self.pk} ({self.relation})"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
