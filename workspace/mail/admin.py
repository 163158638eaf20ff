from django.contrib import admin

from .models import EmailDelivery, EmailPreference, PendingMention


@admin.register(EmailPreference)
class EmailPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "unsubscribed_all", "digest_minutes", "updated"]
    list_filter = ["unsubscribed_all"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """What was e-mailed (or claimed once); read-only: the rows are the record."""

    list_display = ["key", "kind", "user", "created"]
    list_filter = ["kind"]
    search_fields = ["key", "user__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PendingMention)
class PendingMentionAdmin(admin.ModelAdmin):
    list_display = ["notification", "user", "state", "created", "emailed_at"]
    list_filter = ["state"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
