"""Admin of jobs: read their state, and put failed or dead ones back in the queue."""

from __future__ import annotations

from django.contrib import admin, messages

from common.errors import DomainError
from jobs import services
from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "status", "episode", "progress", "attempts", "created_at"]
    list_filter = ["status", "type"]
    list_select_related = ["episode"]
    search_fields = ["error"]
    actions = ["retry"]
    readonly_fields = [field.name for field in Job._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Retry selected failed or dead jobs", permissions=["change"])
    def retry(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                services.job_retry(job=job, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{job}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} job(s) queued again.", messages.SUCCESS)
