"""Accounts, workspaces, care links, notifications and the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from .time_zones import validate_time_zone


class User(AbstractUser):
    class Kind(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        PATIENT = "patient", "Patient"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CLINICIAN)
    # Unique (case-insensitively) but only trusted once confirmed: invitations
    # resolve an address to an account only when ``email_confirmed_at`` is set.
    email = models.EmailField("email address", blank=True)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # A changed address waits here until its owner follows the link sent to
    # it; ``email`` keeps the old one until then.
    pending_email = models.EmailField(blank=True)
    # Blank follows the browser (workspace.time_zones).
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone]
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="unique_user_email_ci",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = self.get_full_name().strip()
        return full or self.username

    @property
    def email_confirmed(self) -> bool:
        return bool(self.email) and self.email_confirmed_at is not None

    @property
    def is_clinician(self) -> bool:
        return self.kind == self.Kind.CLINICIAN

    @property
    def is_patient(self) -> bool:
        return self.kind == self.Kind.PATIENT

    @property
    def is_verified_clinician(self) -> bool:
        if not self.is_clinician:
            return False
        profile = getattr(self, "clinician_profile", None)
        return bool(profile and profile.is_verified)


class Specialty(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)
        super().save(*args, **kwargs)


class ClinicianProfile(models.Model):
    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="clinician_profile",
    )
    title = models.CharField(max_length=40, blank=True, help_text="e.g. Dr, Prof, RN")
    specialties = models.ManyToManyField(
        Specialty, blank=True, related_name="clinicians"
    )
    registration_number = models.CharField(max_length=64, blank=True)
    registration_body = models.CharField(
        max_length=120, blank=True, help_text="e.g. GMC, state medical board"
    )
    institution = models.CharField(max_length=160, blank=True)
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verification_requested_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_verification_display()})"

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class Workspace(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Keys UIDs and pseudonyms during DICOM de-identification; never shown.
    deid_secret = models.CharField(
        max_length=64, default=secrets.token_hex, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workspace_detail", args=[self.slug])


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"], name="unique_membership"
            )
        ]
        ordering = ["workspace", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


class WorkspaceInvitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="workspace_invitations",
    )
    role = models.CharField(
        max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Invitation to {self.workspace} for {self.invitee or self.email}"


def _invite_code() -> str:
    # Unambiguous letters and digits, grouped for reading aloud in clinic.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _invite_expiry():
    return timezone.now() + timedelta(days=settings.PATIENT_INVITE_TTL_DAYS)


class PatientInvite(models.Model):
    """A one-time code a clinician hands a patient to link their account."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="patient_invites",
    )
    code = models.CharField(max_length=20, unique=True, default=_invite_code)
    note = models.CharField(
        max_length=120, blank=True, help_text="Private reminder of whom the code is for"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invite_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class CareLink(models.Model):
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_links"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_links"
    )
    invite = models.OneToOneField(
        PatientInvite,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="link",
    )
    created = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinician"], name="unique_care_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.clinician}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        CASE_INVITE = "case_invite", "Case invitation"
        WORKSPACE_INVITE = "workspace_invite", "Workspace invitation"
        CONSULT = "consult", "Consult"
        SUBMISSION = "submission", "Patient submission"
        MEDIA = "media", "Media"
        VERIFICATION = "verification", "Verification"
        OTHER = "other", "Other"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title

    def as_event(self) -> dict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "created": self.created.isoformat() if self.created else None,
            "read": self.read_at is not None,
        }


class AuditChainHead(models.Model):
    """One row, locked while an event is appended, so the chain never forks."""

    last_hash = models.CharField(max_length=64, blank=True)
    last_event_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"audit chain head at event {self.last_event_id}"


class AuditEvent(models.Model):
    """Append-only record of who did what to which object.

    Each event stores the hash of its predecessor and its own HMAC over its
    content (keyed by the audit key named in ``key_id``, see audit_keys.py),
    so editing or deleting a row breaks the chain where it happened, and
    nobody without the key can recompute the hashes after an edit.
    """

    created = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=16, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target")
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.verb} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    def canonical(self) -> bytes:
        payload = {
            "created": self.created.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "verb": self.verb,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_label": self.target_label,
            "case_id": self.case_id,
            "ip": self.ip,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "key_id": self.key_id,
        }
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), default=str
        ).encode()

    def compute_hash(self, key: bytes) -> str:
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()
