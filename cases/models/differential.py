"""Differential diagnoses on a case, colleagues' likelihood votes, ranking history.

A case's differentials form a working list (``position``, curated by the
owner and collaborators) and a consensus ranking computed from the votes (see
``cases.selectors_clinical``). At most one entry per case is confirmed; the
database enforces it, so two people confirming at once cannot both win.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from ..icd10 import validate_icd10
from .case import Case

__all__ = ["Differential", "DifferentialVote", "RankingSnapshot"]


class Differential(models.Model):
    class Status(models.TextChoices):
        CONSIDERED = "considered", "Considered"
        RULED_OUT = "ruled_out", "Ruled out"
        CONFIRMED = "confirmed", "Confirmed"

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="differentials"
    )
    label = models.CharField("diagnosis", max_length=200)
    icd10_code = models.CharField(
        "ICD-10 code", max_length=8, blank=True, validators=[validate_icd10]
    )
    rationale = models.TextField(blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="proposed_differentials",
    )
    # Set when a specialist suggested the entry in a consult answer.
    consult = models.ForeignKey(
        "cases.ConsultRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suggested_differentials",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.CONSIDERED
    )
    # Who ruled the entry out or confirmed it, when, and why.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="confirmed"),
                name="one_confirmed_differential_per_case",
                violation_error_message="Another diagnosis is already confirmed.",
            ),
            models.UniqueConstraint(
                "case",
                Lower("label"),
                name="unique_differential_label_per_case",
                violation_error_message="That diagnosis is already on the list.",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_considered(self) -> bool:
        return self.status == self.Status.CONSIDERED

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED


class DifferentialVote(models.Model):
    """One clinician's likelihood (0–100) for one entry; changed in place."""

    differential = models.ForeignKey(
        Differential, on_delete=models.CASCADE, related_name="votes"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="differential_votes",
    )
    likelihood = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["differential", "voter"], name="one_vote_per_differential"
            ),
            models.CheckConstraint(
                condition=models.Q(likelihood__gte=0, likelihood__lte=100),
                name="likelihood_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter} → {self.differential}: {self.likelihood}"


class RankingSnapshot(models.Model):
    """The case's consensus ranking right after one change, for its history.

    Append-only: one row per add, vote, decision or reorder. ``ranking`` holds
    the compact consensus at that moment (``id``, ``label``, ``status``,
    ``rank``, ``mean``, ``spread``, ``voters``), so the history survives later
    edits and deletions of the entries themselves.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="ranking_snapshots"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(max_length=24)
    summary = models.CharField(max_length=300)
    ranking = models.JSONField(default=list)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["case", "-id"], name="ranking_history")]

    def __str__(self) -> str:
        return self.summary
