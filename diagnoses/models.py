"""Differential diagnoses on a case, colleagues' likelihood votes, ranking history.

A case's differentials form a working list (``position``, curated by the
owner and collaborators) and a consensus ranking computed from the votes (see
``diagnoses.selectors``). At most one entry per case is confirmed; the
database enforces it, so two people confirming at once cannot both win.

- :class:`DifferentialRound`: one participant's submitted differential on an
  independent case, locked in at ``submitted``: the likelihoods they had
  given each entry at that moment (``{entry id: 0–100}``).
- :class:`DiagnosisScore`: one voter's score on one resolved case whose final
  diagnosis is linked to a confirmed entry (Brier and log scores over the
  entries they rated, see :mod:`diagnoses.scoring`). One row per
  (voter, case): re-resolving replaces it, never adds to it.
- :class:`TrackRecordPreference`: whether a clinician shows their track
  record to others (private by default).

The models came from cases and keep its tables (``db_table``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from cases.models.case import Case
from diagnoses.icd10 import validate_icd10

__all__ = [
    "DiagnosisScore",
    "Differential",
    "DifferentialRound",
    "DifferentialVote",
    "RankingSnapshot",
    "TrackRecordPreference",
]


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
        "consults.ConsultRequest",
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
        # Moved from cases: the table keeps its name.
        db_table = "cases_differential"
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
        # Moved from cases: the table keeps its name.
        db_table = "cases_differentialvote"
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
        # Moved from cases: the table keeps its name.
        db_table = "cases_rankingsnapshot"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["case", "-id"], name="ranking_history")]

    def __str__(self) -> str:
        return self.summary


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
        # Moved from cases: the table keeps its name.
        db_table = "cases_differentialround"
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
        "diagnoses.Differential",
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
        # Moved from cases: the table keeps its name.
        db_table = "cases_diagnosisscore"
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

    class Meta:
        db_table = "cases_trackrecordpreference"

    def __str__(self) -> str:
        return f"{self.user}: {'shown' if self.shown else 'private'}"
