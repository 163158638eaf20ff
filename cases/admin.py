"""Staff views of cases: read and search, with state changes through services.

The PHI scan, attestation and status are read-only here; a case changes state
only through :mod:`cases.services.cases`, so the audit trail stays complete.
"""

from django.contrib import admin, messages

from cases.models import Case, CaseInvitation, CaseParticipant, JoinRequest, Tag
from cases.services.cases import case_archive
from workspace.audit import client_ip


class CaseParticipantInline(admin.TabularInline):
    model = CaseParticipant
    fk_name = "case"
    extra = 0
    can_delete = False
    fields = ["user", "role", "added_by", "created"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "owner",
        "specialty",
        "status",
        "visibility",
        "workspace",
        "published_at",
        "updated",
    ]
    list_filter = ["status", "visibility", "specialty", "age_band"]
    search_fields = ["title", "owner__username", "owner__email", "tags__name"]
    list_select_related = ["owner", "specialty", "workspace"]
    date_hierarchy = "created"
    inlines = [CaseParticipantInline]
    actions = ["archive"]
    readonly_fields = [
        "owner",
        "status",
        "published_at",
        "resolved_at",
        "phi_scan",
        "phi_dismissed",
        "phi_scanned_at",
        "deid_attestation",
        "attested_by",
        "attested_at",
        "last_message_seq",
        "created",
        "updated",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "owner",
                    "workspace",
                    "specialty",
                    "age_band",
                    "sex",
                    "tags",
                    "status",
                    "visibility",
                    "final_diagnosis",
                ]
            },
        ),
        (
            "Clinical text",
            {
                "classes": ["collapse"],
                "fields": [
                    "presenting_complaint",
                    "history",
                    "examination",
                    "investigations",
                    "working_notes",
                ],
            },
        ),
        (
            "De-identification",
            {
                "fields": [
                    "phi_scan",
                    "phi_dismissed",
                    "phi_scanned_at",
                    "deid_attestation",
                    "attested_by",
                    "attested_at",
                ]
            },
        ),
        (
            "Dates",
            {"fields": ["created", "updated", "published_at", "resolved_at"]},
        ),
    ]

    def has_add_permission(self, request):
        # Cases start in the app, where the owner participant and audit are made.
        return False

    def has_change_permission(self, request, obj=None):
        # Editing text here would skip the PHI gate; staff read, owners edit.
        return False

    @admin.action(description="Archive selected cases (take them down)")
    def archive(self, request, queryset):
        count = 0
        for case in queryset:
            case_archive(case=case, by=request.user, ip=client_ip(request))
            count += 1
        self.message_user(request, f"Archived {count} case(s).", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Clinical records change only through their services, never in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JoinRequest)
class JoinRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "user", "created"]
    list_select_related = ["case", "user"]


@admin.register(CaseInvitation)
class CaseInvitationAdmin(admin.ModelAdmin):
    list_display = ["case", "email", "role", "status", "invited_by", "created"]
    list_filter = ["status"]
    readonly_fields = ["token", "accepted_by", "responded_at"]
