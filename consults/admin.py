"""Staff views of consults: read-only."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin
from consults.models import ConsultRequest


@admin.register(ConsultRequest)
class ConsultRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "specialty", "assignee", "urgency", "status", "due_at"]
    list_filter = ["status", "urgency", "specialty"]
    search_fields = ["case__title", "question"]
    list_select_related = ["case", "specialty", "assignee"]
