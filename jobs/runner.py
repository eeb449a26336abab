"""One attempt of a job: claim it, run its handler, record how it ended.

Whatever the handler raises ends as a state: `JobError` → failed, `RetryableJobError` or any
other exception → retrying (with a backoff), or dead once the attempts are used up. The
worker itself never sees the error.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from jobs import registry, services
from jobs.errors import JobBusy, JobError, RetryableJobError
from jobs.models import Job

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How a delivery of a job ended.

    `status`: a job status it ended in (completed, failed, retrying, dead), or `finished`
    (it had finished before), `busy` (another attempt holds it: look again in `retry_in`),
    `superseded` (another attempt took over meanwhile), `missing` (no such job).
    """

    status: str
    retry_in: float | None = None
    job: Job | None = None


def backoff(attempt: int) -> float:
    """Seconds before the next attempt: exponential in `attempt`, capped, with jitter."""
    ceiling = min(
        settings.JOBS_RETRY_BACKOFF_MAX, settings.JOBS_RETRY_BACKOFF * 2 ** max(attempt - 1, 0)
    )
    # Half fixed, half random: retries of jobs that failed together spread out.
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


class ProgressReport:
    """The `report_progress` a handler gets: writes only when the whole percent grows."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.last = -1

    def __call__(self, percent: float) -> None:
        value = int(max(0.0, min(100.0, float(percent))))
        if value <= self.last:
            return
        self.last = value
        services.job_report_progress(job=self.job, progress=value)


@contextmanager
def heartbeat(job: Job) -> Iterator[None]:
    """Extend the attempt's lease from a thread while the handler runs.

    Not inside an outer transaction (a job run eagerly in a test's): another connection
    could not see the attempt, and would wait on its row lock.
    """
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()
    interval = max(settings.JOBS_LEASE_SECONDS / 3, 0.05)

    def beat() -> None:
        try:
            while not stop.wait(interval):
                if not services.job_heartbeat(job=job):
                    return
        except Exception as exc:  # the next beat, or the lease's end, will tell
            logger.warning("job_heartbeat_failed", job_id=job.pk, error=repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"job-{job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=min(settings.JOBS_LEASE_SECONDS, 5.0))


def _checked_result(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise JobError(f"The handler returned {type(result).__name__}, not an object.")
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JobError(f"The handler's result cannot be stored as JSON: {exc}") from exc
    return result


def _run_handler(job: Job) -> dict[str, Any]:
    spec = registry.job_type(job.type)
    job.params = registry.check_job(
        type=job.type,
        params=job.params,
        has_episode=job.episode_id is not None,
        has_file=job.file_id is not None,
    )
    with heartbeat(job):
        return _checked_result(spec.handler(job, ProgressReport(job)))


def job_run(*, job_id: int, worker: str = "") -> Outcome:
    """Run one attempt of the job, if it is the attempt's turn; how it ended."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job_missing", job_id=job_id)
        return Outcome("missing")
    try:
        claim = services.job_claim(job=job, worker=worker)
    except JobBusy as busy:
        logger.info("job_busy", job_id=job_id, retry_in=round(busy.retry_in, 3))
        return Outcome("busy", retry_in=busy.retry_in)
    if claim.outcome != "started" or claim.job is None:
        return Outcome(claim.outcome, job=claim.job)
    running = claim.job
    attempt = running.attempts
    log = logger.bind(job_id=job_id, job_type=running.type, attempt=attempt)
    started = timezone.now()
    # Decided before the attempt, so that the job records the delay the task retries after.
    delay = backoff(attempt)
    try:
        result = _run_handler(running)
    except JobError as exc:
        log.info("job_failed", error=str(exc))
        done = services.job_fail(job=running, error=str(exc), retryable=False, attempt=attempt)
    except RetryableJobError as exc:
        log.info("job_attempt_failed", error=str(exc))
        done = services.job_fail(
            job=running, error=str(exc), retryable=True, attempt=attempt, retry_in=delay
        )
    except Exception as exc:
        log.exception("job_handler_crashed")
        error = f"{type(exc).__name__}: {exc}"
        done = services.job_fail(
            job=running, error=error, retryable=True, attempt=attempt, retry_in=delay
        )
    else:
        done = services.job_complete(job=running, result=result, attempt=attempt)
        log.info("job_completed", seconds=(timezone.now() - started).total_seconds())
    if done.attempts != attempt or done.status == Job.Status.RUNNING:
        log.warning("job_attempt_superseded", current_attempt=done.attempts)
        return Outcome("superseded", job=done)
    if done.status == Job.Status.RETRYING:
        return Outcome(done.status, retry_in=delay, job=done)
    return Outcome(done.status, job=done)


def jobs_recover_stale() -> int:
    """Send again the running jobs whose attempt died long ago (lease lapsed twice over).

    Normally the dead attempt's message comes back by itself; this covers a message lost
    with its broker. A duplicate is harmless: the claim lets one attempt run.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    stale = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=cutoff)
    sent = 0
    for job in stale.only("pk"):
        if services.job_resend(job=job):
            sent += 1
    if sent:
        logger.warning("stale_jobs_sent_again", count=sent)
    return sent
