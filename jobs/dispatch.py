"""Sending jobs to the workers: to the broker's queue, or run in-process without a broker."""

from __future__ import annotations

import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)


def job_send(*, job_id: int) -> None:
    """Send the job to the workers (called once the transaction that queued it commits).

    Without a broker (task_always_eager) the job runs here and now, in this thread. A broker
    that cannot be reached leaves the job queued, and says so in the log.
    """
    if not settings.JOBS_DISPATCH:
        return
    from jobs.tasks import run_job_task

    try:
        run_job_task.apply_async(args=[job_id])
    except Exception as exc:
        logger.error("job_dispatch_failed", job_id=job_id, error=repr(exc))
