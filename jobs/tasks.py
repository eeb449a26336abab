"""Celery tasks of jobs: they take ids, run one attempt, and let Celery redeliver or retry.

Workers: `celery -A config worker -Q jobs --without-gossip --without-mingle -l INFO`
(`-c N` processes; prefork). The message is acknowledged once the attempt has ended, and a
worker process that dies mid-job gives it back (acks_late, reject_on_worker_lost).
"""

from __future__ import annotations

from celery import shared_task

from common.actor import acting_as
from jobs import brokers, runner


@shared_task(
    bind=True,
    name="jobs.run",
    acks_late=True,
    reject_on_worker_lost=True,
    # Attempts are counted on the job (max_attempts), not by Celery.
    max_retries=None,
    ignore_result=True,
)
def run_job_task(self, job_id: int) -> str:
    with acting_as(None):
        outcome = runner.job_run(job_id=job_id)
    if outcome.status == "dead" and outcome.job is not None:
        brokers.dead_letter_send(job_id=job_id, error=outcome.job.error)
    if outcome.retry_in is not None:
        if self.request.is_eager and outcome.status == "busy":
            # In-process: the attempt that holds the job is running (or will be resumed)
            # elsewhere; looking again at once would only spin.
            return outcome.status
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="jobs.recover_stale", ignore_result=True)
def recover_stale_jobs_task() -> int:
    with acting_as(None):
        return runner.jobs_recover_stale()
