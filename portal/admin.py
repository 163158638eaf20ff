"""Staff views of submissions and findings: read-only."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin
from portal.models import FindingLink, Submission


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "patient", "clinician", "status", "credibility", "created"]
    list_filter = ["status", "credibility"]
    list_select_related = ["patient", "clinician"]


@admin.register(FindingLink)
class FindingLinkAdmin(ReadOnlyAdmin):
    list_display = ["submission", "differential", "relation", "created"]
    list_select_related = ["submission", "differential"]
