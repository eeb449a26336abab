"""Django admin for files: browse and filter them; deleting goes through the service."""

from __future__ import annotations

from django.contrib import admin

from files import services
from files.models import FileAsset


@admin.register(FileAsset)
class FileAssetAdmin(admin.ModelAdmin):
    list_display = ["filename", "episode", "content_type", "size", "status", "created_at"]
    list_filter = ["status", "content_type", "created_at"]
    search_fields = ["filename", "episode__title", "checksum_sha256"]
    list_select_related = ["episode"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "episode",
        "filename",
        "storage_key",
        "content_type",
        "size",
        "checksum_sha256",
        "status",
        "metadata",
        "created_by",
        "created_at",
        "updated_at",
        "uploaded_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        # Files are made by uploads (POST files/), never typed in.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        services.file_delete(file=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            services.file_delete(file=file, actor=request.user)
