"""Periodic tasks of files (run by Celery beat, or by `manage.py prune_uploads`)."""

from __future__ import annotations

from celery import shared_task

from files import services


@shared_task(name="files.prune_uploads", ignore_result=True)
def prune_uploads_task() -> int:
    return services.file_prune_pending()
