from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import services
from .models import (
    AuditEvent,
    CareLink,
    ClinicianProfile,
    Membership,
    Notification,
    PatientInvite,
    Specialty,
    User,
    Workspace,
    WorkspaceInvitation,
)


class ClinicianProfileInline(admin.StackedInline):
    model = ClinicianProfile
    fk_name = "user"
    can_delete = False
    filter_horizontal = ["specialties"]
    readonly_fields = [
        "verification",
        "verified_by",
        "verified_at",
        "verification_requested_at",
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "email_confirmed_at",
        "first_name",
        "last_name",
        "kind",
        "is_staff",
    ]
    list_filter = ["kind", "is_staff", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Consilium",
            {"fields": ("kind", "time_zone", "email_confirmed_at", "pending_email")},
        ),
    )
    # Confirmation happens only through the link sent to the address.
    readonly_fields = ["email_confirmed_at", "pending_email"]

    def save_model(self, request, obj, form, change):
        if change and "email" in form.changed_data:
            # Staff typed a new address: nobody has confirmed it yet.
            obj.email_confirmed_at = None
        super().save_model(request, obj, form, change)

    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Consilium", {"fields": ("kind",)}),
    )
    inlines = [ClinicianProfileInline]


@admin.register(ClinicianProfile)
class ClinicianProfileAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "title",
        "registration_number",
        "registration_body",
        "verification",
        "verification_requested_at",
        "verified_at",
    ]
    list_filter = ["verification", "specialties"]
    search_fields = ["user__username", "user__email", "registration_number"]
    filter_horizontal = ["specialties"]
    readonly_fields = [
        "verification",
        "verified_by",
        "verified_at",
        "verification_requested_at",
    ]
    actions = ["verify", "reject"]

    @admin.action(description="Verify selected clinicians")
    def verify(self, request, queryset):
        for profile in queryset:
            services.clinician_verify(profile=profile, by=request.user, approve=True)
        self.message_user(
            request, f"Verified {queryset.count()} clinician(s).", messages.SUCCESS
        )

    @admin.action(description="Reject selected verification requests")
    def reject(self, request, queryset):
        for profile in queryset:
            services.clinician_verify(profile=profile, by=request.user, approve=False)
        self.message_user(
            request, f"Rejected {queryset.count()} request(s).", messages.WARNING
        )


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created", "created_by"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]
    exclude = ["deid_secret"]


@admin.register(WorkspaceInvitation)
class WorkspaceInvitationAdmin(admin.ModelAdmin):
    list_display = ["workspace", "invitee", "email", "role", "status", "created"]
    list_filter = ["status"]


@admin.register(PatientInvite)
class PatientInviteAdmin(admin.ModelAdmin):
    list_display = ["code", "clinician", "created", "expires_at", "used_at"]
    readonly_fields = ["code", "used_at", "used_by"]


@admin.register(CareLink)
class CareLinkAdmin(admin.ModelAdmin):
    list_display = ["patient", "clinician", "created", "active"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "title", "created", "read_at"]
    list_filter = ["kind"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the chain must never be edited, even by staff."""

    list_display = [
        "created",
        "actor_label",
        "verb",
        "target_type",
        "target_label",
        "case_id",
        "ip",
    ]
    list_filter = ["verb", "target_type"]
    search_fields = ["actor_label", "verb", "target_label", "target_id"]
    date_hierarchy = "created"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
