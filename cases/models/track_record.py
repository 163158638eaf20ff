"""Independent rounds, diagnostic scores and track-record preferences.

- :class:`DifferentialRound`: one participant's submitted differential on an
  independent case, locked in at ``submitted``: the likelihoods they had
  given each entry at that moment (``{entry id: 0–100}``).
- :class:`DiagnosisScore`: one voter's score on one resolved case whose final
  diagnosis is linked to a confirmed entry (Brier and log scores over the
  entries they rated, see :mod:`cases.services.scoring`). One row per
  (voter, case): re-resolving replaces it, never adds to it.
- :class:`TrackRecordPreference`: whether a clinician shows their track
  record to others (private by default).
- :class:`JoinRequest`: a non-participant's request to the owner to take part.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .case import Case

__all__ = [
    "DiagnosisScore",
    "DifferentialRound",
    "JoinRequest",
    "TrackRecordPreference",
]


class DifferentialRound(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="differential_rounds"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="differential_rounds",
    )
    submitted = models.DateTimeField(auto_now_add=True)
    # {str(entry id): likelihood} as submitted.
    likelihoods = models.JSONField(default=dict)

    class Meta:
        ordering = ["case", "submitted", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "voter"], name="one_round_per_voter_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.voter} on {self.case} at {self.submitted:%Y-%m-%d %H:%M}"


class DiagnosisScore(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="diagnosis_scores",
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="diagnosis_scores"
    )
    specialty = models.ForeignKey(
        "workspace.Specialty",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed = models.ForeignKey(
        "cases.Differential",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    brier = models.FloatField()
    log_score = models.FloatField()
    entries = models.PositiveIntegerField()
    top1 = models.BooleanField(default=False)
    # Whether the likelihoods came from a submitted independent round.
    independent = models.BooleanField(default=False)
    # [[likelihood 0–1, outcome 0|1], ...], one pair per scored entry.
    forecasts = models.JSONField(default=list)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "case"], name="one_score_per_voter_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.case}: Brier {self.brier:.3f}"


class TrackRecordPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="track_record_preference",
    )
    shown = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {'shown' if self.shown else 'private'}"


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
