"""Staff views of differentials, rounds and scores: read-only."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin
from diagnoses.models import DiagnosisScore, Differential, DifferentialRound


@admin.register(Differential)
class DifferentialAdmin(ReadOnlyAdmin):
    list_display = ["label", "case", "status", "proposed_by", "position", "created"]
    list_filter = ["status"]
    search_fields = ["label", "case__title"]
    list_select_related = ["case", "proposed_by"]


@admin.register(DifferentialRound)
class DifferentialRoundAdmin(ReadOnlyAdmin):
    list_display = ["case", "voter", "submitted"]
    list_select_related = ["case", "voter"]


@admin.register(DiagnosisScore)
class DiagnosisScoreAdmin(ReadOnlyAdmin):
    list_display = ["user", "case", "specialty", "brier", "log_score", "top1"]
    list_filter = ["specialty", "top1"]
    list_select_related = ["user", "case", "specialty"]
