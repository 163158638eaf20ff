"""Staff views of media: read-only, deleting through the service (files too)."""

from django.contrib import admin, messages

from . import services
from .models import MediaAsset, UploadSession


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "size", "uploaded_by", "created"]
    list_filter = ["kind", "status"]
    search_fields = ["key", "sha256", "uploaded_by__username"]
    date_hierarchy = "created"
    readonly_fields = [
        field.name for field in MediaAsset._meta.fields if field.name != "id"
    ]
    actions = ["requeue", "delete_with_files"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # The bulk delete would skip the service and leave the files behind.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj: MediaAsset) -> None:
        services.asset_delete(asset=obj)

    @admin.action(description="Process again if stuck")
    def requeue(self, request, queryset) -> None:
        from .tasks import process_asset

        pending = queryset.filter(
            status__in=[MediaAsset.Status.UPLOADED, MediaAsset.Status.PROCESSING]
        )
        for asset_id in pending.values_list("pk", flat=True):
            process_asset.enqueue(asset_id=asset_id)
        messages.info(request, f"{pending.count()} asset(s) queued.")

    @admin.action(description="Delete with their stored files")
    def delete_with_files(self, request, queryset) -> None:
        count = 0
        for asset in queryset:
            services.asset_delete(asset=asset)
            count += 1
        messages.info(request, f"{count} asset(s) deleted.")


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "mode", "status", "size", "received", "created"]
    list_filter = ["mode", "status"]
    readonly_fields = [
        field.name for field in UploadSession._meta.fields if field.name != "id"
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
