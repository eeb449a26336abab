"""Writes of jobs: every state change goes through here and announces itself.

Each service owns its transaction, locks the job row, and sends `job_state_changed` (or
`job_progress`) inside the transaction, so that the realtime side effects commit with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from common.actor import as_actor
from common.errors import ConflictError
from episodes.models import Episode
from files.models import FileAsset
from jobs import signals
from jobs.models import Job

ERROR_MAX_CHARS = 2000


def _announce(job: Job, previous: str | None, actor: AbstractBaseUser | None = None) -> None:
    signals.job_state_changed.send(sender=Job, job=job, previous=previous, actor=actor)


def _locked(job: Job) -> Job:
    return Job.objects.select_for_update(of=("self",)).select_related("episode").get(pk=job.pk)


@as_actor
@transaction.atomic
def job_enqueue(
    *,
    type: str,
    actor: AbstractBaseUser | None,
    episode: Episode | None = None,
    file: FileAsset | None = None,
    params: dict[str, Any] | None = None,
    max_attempts: int | None = None,
) -> Job:
    job = Job.objects.create(
        type=type,
        episode=episode,
        file=file,
        params=params or {},
        max_attempts=max_attempts or settings.JOBS_MAX_ATTEMPTS,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _announce(job, None, actor)
    return job


@transaction.atomic
def job_start(*, job: Job) -> Job | None:
    """Mark a job running for one more attempt; None when it has already finished."""
    locked = _locked(job)
    if locked.is_finished:
        return None
    previous = locked.status
    locked.status = Job.Status.RUNNING
    locked.attempts += 1
    locked.progress = 0
    locked.started_at = timezone.now()
    locked.save(update_fields=["status", "attempts", "progress", "started_at"])
    _announce(locked, previous)
    return locked


@transaction.atomic
def job_report_progress(*, job: Job, progress: int) -> None:
    """Record progress (0-100) of a running job; the realtime layer throttles what it sends."""
    progress = max(0, min(100, int(progress)))
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(progress=progress)
    if updated:
        job.progress = progress
        signals.job_progress.send(sender=Job, job=job, progress=progress)


@transaction.atomic
def job_complete(*, job: Job, result: dict[str, Any] | None = None) -> Job:
    locked = _locked(job)
    if locked.is_finished:
        return locked
    previous = locked.status
    locked.status = Job.Status.COMPLETED
    locked.progress = 100
    locked.result = result or {}
    locked.error = ""
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "progress", "result", "error", "finished_at"])
    _announce(locked, previous)
    return locked


@transaction.atomic
def job_fail(*, job: Job, error: str, retryable: bool) -> Job:
    """An attempt failed: `retrying` while attempts remain, then `dead`; `failed` if final."""
    locked = _locked(job)
    if locked.is_finished:
        return locked
    previous = locked.status
    if not retryable:
        locked.status = Job.Status.FAILED
    elif locked.attempts < locked.max_attempts:
        locked.status = Job.Status.RETRYING
    else:
        locked.status = Job.Status.DEAD
    locked.error = error[:ERROR_MAX_CHARS]
    if locked.is_finished:
        locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "error", "finished_at"])
    _announce(locked, previous)
    return locked


@as_actor
@transaction.atomic
def job_retry(*, job: Job, actor: AbstractBaseUser | None) -> Job:
    """Put a failed or dead job back in the queue with fresh attempts."""
    locked = _locked(job)
    if locked.status not in (Job.Status.FAILED, Job.Status.DEAD):
        raise ConflictError(
            f"Only a failed or dead job can be retried; this one is {locked.status}.",
            extra={"status": locked.status, "allowed_from": ["dead", "failed"]},
        )
    previous = locked.status
    locked.status = Job.Status.QUEUED
    locked.attempts = 0
    locked.progress = 0
    locked.error = ""
    locked.result = None
    locked.started_at = None
    locked.finished_at = None
    locked.save()
    _announce(locked, previous, actor)
    return locked
