"""Writes of jobs: every state change goes through here and announces itself.

Each service owns its transaction, locks the job row, and sends `job_state_changed` (or
`job_progress`) inside the transaction, so that the realtime side effects commit with it.
A job put in the queue (enqueued, retried, redriven) is sent to the workers once that
transaction commits (`jobs.dispatch`).

An attempt holds the job by a lease (`lease_expires_at`, `worker`) that its heartbeat and
its progress reports extend. A second delivery of the job's message finds the lease live
and waits (`JobBusy`); one that finds it lapsed, or its worker process gone, starts the job
again. The attempt number fences the writes of an attempt that was superseded meanwhile.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import OperationalError, transaction
from django.utils import timezone

from common.actor import as_actor
from common.errors import ConflictError
from episodes.models import Episode
from files.models import FileAsset
from jobs import signals
from jobs.errors import JobBusy
from jobs.models import Job

ERROR_MAX_CHARS = 2000
# Whoever finds the row locked by another claim looks again this much later.
LOCKED_RETRY_SECONDS = 1.0


def _announce(job: Job, previous: str | None, actor: AbstractBaseUser | None = None) -> None:
    signals.job_state_changed.send(sender=Job, job=job, previous=previous, actor=actor)


def _dispatch_on_commit(job: Job) -> None:
    from jobs import dispatch

    job_id = job.pk
    transaction.on_commit(lambda: dispatch.job_send(job_id=job_id), robust=True)


def _locked(job: Job) -> Job:
    return Job.objects.select_for_update(of=("self",)).select_related("episode").get(pk=job.pk)


def _lease_end(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.JOBS_LEASE_SECONDS)


def current_worker() -> str:
    """`host:pid` of this process, as recorded on the attempts it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(worker: str) -> bool:
    """The worker ran on this host and its process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _lease_left(job: Job, now: datetime) -> float:
    """Seconds the current attempt still holds the job; 0 when it is dead or lapsed."""
    if job.lease_expires_at is None or job.lease_expires_at <= now:
        return 0.0
    if _process_gone(job.worker):
        return 0.0
    return (job.lease_expires_at - now).total_seconds()


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
    _dispatch_on_commit(job)
    return job


@dataclass(frozen=True)
class Claim:
    """What a worker got when it asked to run a job.

    `started`: this attempt runs it (`job`); `finished`: nothing to do; `dead`: the previous
    attempts were all lost with their workers and the job is now dead (`job`).
    """

    outcome: Literal["started", "finished", "dead"]
    job: Job | None = None


def _lock_for_claim(job_id: int) -> Job:
    try:
        with transaction.atomic():
            return (
                Job.objects.select_for_update(nowait=True, of=("self",))
                .select_related("episode")
                .get(pk=job_id)
            )
    except OperationalError as exc:  # another claim holds the row right now
        raise JobBusy(LOCKED_RETRY_SECONDS) from exc


@transaction.atomic
def job_claim(*, job: Job, worker: str = "") -> Claim:
    """Start one more attempt of a job, unless it is finished or another attempt holds it.

    Raises JobBusy when another attempt holds the job (live lease) or is claiming it.
    A running job whose attempt is dead is started again; that lost attempt counts, so a
    job that kills its workers ends `dead` after `max_attempts` of them.
    """
    locked = _lock_for_claim(job.pk)
    if locked.is_finished:
        return Claim("finished")
    now = timezone.now()
    previous = locked.status
    if previous == Job.Status.RUNNING:
        left = _lease_left(locked, now)
        if left > 0:
            raise JobBusy(left)
        if locked.attempts >= locked.max_attempts:
            _finish_lost(locked, previous, now)
            return Claim("dead", locked)
    locked.status = Job.Status.RUNNING
    locked.attempts += 1
    locked.progress = 0
    locked.started_at = now
    locked.lease_expires_at = _lease_end(now)
    locked.worker = worker or current_worker()
    locked.next_retry_at = None
    locked.save(
        update_fields=[
            "status",
            "attempts",
            "progress",
            "started_at",
            "lease_expires_at",
            "worker",
            "next_retry_at",
        ]
    )
    _announce(locked, previous)
    return Claim("started", locked)


def _finish_lost(locked: Job, previous: str, now: datetime) -> None:
    locked.status = Job.Status.DEAD
    locked.error = (
        f"The worker running attempt {locked.attempts} of {locked.max_attempts} was lost "
        f"({locked.worker or 'unknown'}); no attempt is left."
    )
    locked.finished_at = now
    locked.lease_expires_at = None
    locked.save(update_fields=["status", "error", "finished_at", "lease_expires_at"])
    _announce(locked, previous)


def job_start(*, job: Job, worker: str = "") -> Job | None:
    """Mark a job running for one more attempt; None when it has finished (or just died).

    Raises JobBusy while another attempt holds it.
    """
    claim = job_claim(job=job, worker=worker)
    return claim.job if claim.outcome == "started" else None


def job_heartbeat(*, job: Job) -> bool:
    """Extend the lease of the job's current attempt; False once that attempt is superseded."""
    return bool(
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts).update(
            lease_expires_at=_lease_end()
        )
    )


@transaction.atomic
def job_report_progress(*, job: Job, progress: int) -> None:
    """Record progress (0-100) of a running job; the realtime layer throttles what it sends.

    A report is also a heartbeat: it extends the attempt's lease.
    """
    progress = max(0, min(100, int(progress)))
    updated = Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
    ).update(progress=progress, lease_expires_at=_lease_end())
    if updated:
        job.progress = progress
        signals.job_progress.send(sender=Job, job=job, progress=progress)


def _superseded(locked: Job, attempt: int | None) -> bool:
    """The caller's attempt is no longer the job's current one (another took over)."""
    return attempt is not None and (
        locked.status != Job.Status.RUNNING or locked.attempts != attempt
    )


@transaction.atomic
def job_complete(
    *, job: Job, result: dict[str, Any] | None = None, attempt: int | None = None
) -> Job:
    """The attempt succeeded. With `attempt`, only while that attempt is the current one."""
    locked = _locked(job)
    if locked.is_finished or _superseded(locked, attempt):
        return locked
    previous = locked.status
    locked.status = Job.Status.COMPLETED
    locked.progress = 100
    locked.result = result or {}
    locked.error = ""
    locked.finished_at = timezone.now()
    locked.lease_expires_at = None
    locked.save(
        update_fields=["status", "progress", "result", "error", "finished_at", "lease_expires_at"]
    )
    _announce(locked, previous)
    return locked


def _retry_delay(attempt: int) -> float:
    from jobs.runner import backoff  # the runner imports this module

    return backoff(attempt)


@transaction.atomic
def job_fail(
    *,
    job: Job,
    error: str,
    retryable: bool,
    attempt: int | None = None,
    retry_in: float | None = None,
) -> Job:
    """An attempt failed: `retrying` while attempts remain, then `dead`; `failed` if final.

    With `attempt`, only while that attempt is the current one. A retrying job records when
    its next attempt is due (`next_retry_at`): `retry_in` seconds from now, the delay the
    caller will retry after (by default the runner's backoff for this attempt).
    """
    locked = _locked(job)
    if locked.is_finished or _superseded(locked, attempt):
        return locked
    previous = locked.status
    now = timezone.now()
    locked.next_retry_at = None
    if not retryable:
        locked.status = Job.Status.FAILED
    elif locked.attempts < locked.max_attempts:
        locked.status = Job.Status.RETRYING
        delay = retry_in if retry_in is not None else _retry_delay(locked.attempts)
        locked.next_retry_at = now + timedelta(seconds=delay)
    else:
        locked.status = Job.Status.DEAD
    locked.error = error[:ERROR_MAX_CHARS]
    if locked.is_finished:
        locked.finished_at = now
    locked.lease_expires_at = None
    locked.save(
        update_fields=["status", "error", "finished_at", "lease_expires_at", "next_retry_at"]
    )
    _announce(locked, previous)
    return locked


def _requeue(locked: Job, actor: AbstractBaseUser | None) -> Job:
    previous = locked.status
    locked.status = Job.Status.QUEUED
    locked.attempts = 0
    locked.progress = 0
    locked.error = ""
    locked.result = None
    locked.started_at = None
    locked.finished_at = None
    locked.lease_expires_at = None
    locked.worker = ""
    locked.next_retry_at = None
    locked.save()
    _announce(locked, previous, actor)
    _dispatch_on_commit(locked)
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
    return _requeue(locked, actor)


@as_actor
@transaction.atomic
def job_redrive(*, job: Job, actor: AbstractBaseUser | None) -> Job:
    """Put a dead job (one that used up its attempts) back in the queue with fresh attempts.

    Its message in the dead-letter queue, if any, is left there: `manage.py jobs_redrive`
    drops the messages of jobs that are no longer dead.
    """
    locked = _locked(job)
    if locked.status != Job.Status.DEAD:
        raise ConflictError(
            f"Only a dead job can be redriven; this one is {locked.status}.",
            extra={"status": locked.status, "allowed_from": ["dead"]},
        )
    return _requeue(locked, actor)


@transaction.atomic
def job_resend(*, job: Job) -> bool:
    """Send an unfinished job to the workers again (its message was lost); False if finished.

    A running job whose attempt is alive is left alone: its worker has the message.
    """
    locked = _locked(job)
    if locked.is_finished:
        return False
    if locked.status == Job.Status.RUNNING and _lease_left(locked, timezone.now()) > 0:
        return False
    _dispatch_on_commit(locked)
    return True
