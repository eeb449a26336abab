"""Admin of jobs: read their state; retry failed or dead ones; redrive dead ones (admins)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages

from accounts.roles import is_admin
from common.errors import DomainError
from jobs import services
from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "status", "episode", "progress", "attempts", "created_at"]
    list_filter = ["status", "type"]
    list_select_related = ["episode"]
    search_fields = ["error"]
    actions = ["retry", "redrive"]
    readonly_fields = [field.name for field in Job._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_redrive_permission(self, request) -> bool:
        return is_admin(request.user)

    def _apply(self, request, queryset, service: Callable[..., Job], done_message: str) -> None:
        done = 0
        for job in queryset:
            try:
                service(job=job, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{job}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message.format(done), messages.SUCCESS)

    @admin.action(description="Retry selected failed or dead jobs", permissions=["change"])
    def retry(self, request, queryset):
        self._apply(request, queryset, services.job_retry, "{} job(s) queued again.")

    @admin.action(description="Redrive selected dead jobs", permissions=["redrive"])
    def redrive(self, request, queryset):
        self._apply(request, queryset, services.job_redrive, "{} dead job(s) redriven.")
