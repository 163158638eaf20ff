"""Staff see discussions read-only: changes go through the services (audit trail)."""

from django.contrib import admin

from .models import Message, Thread


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["title", "case", "is_default", "created_by", "created"]
    list_select_related = ["case", "created_by"]
    search_fields = ["title", "case__title"]
    readonly_fields = ["case", "is_default", "created_by", "created"]
    raw_id_fields = ["case"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "case",
        "thread",
        "seq",
        "author",
        "created",
        "edited",
        "deleted",
    ]
    list_select_related = ["case", "thread", "author"]
    list_filter = ["created"]
    search_fields = ["body", "author__username", "case__title"]
    fields = [
        "case",
        "thread",
        "seq",
        "author",
        "client_id",
        "body",
        "body_html",
        "created",
        "edited",
        "deleted",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
