"""Admin: read-only activity and event lists; notifications, their preferences and mutes."""

from __future__ import annotations

from django.contrib import admin

from realtime.models import Activity, EpisodeMute, Event, Notification, NotificationPreference


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "action", "resource_type", "resource_id"]
    list_filter = ["action", "resource_type"]
    search_fields = ["action", "user__username"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["position", "event", "streams", "user", "created_at", "published_at"]
    list_filter = ["event"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "updated_at", "user", "type", "message", "read_at"]
    list_filter = ["type"]
    search_fields = ["user__username", "message"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    show_full_result_count = False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "enabled"]
    list_filter = ["type", "enabled"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(EpisodeMute)
class EpisodeMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "episode", "created_at"]
    search_fields = ["user__username", "episode__title"]
    list_select_related = ["user", "episode"]
    raw_id_fields = ["user", "episode"]
