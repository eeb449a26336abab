"""A worker process killed (SIGKILL) mid-job does not lose the job: it runs again on a new
worker process and completes exactly once. Real `celery worker` processes, real brokers."""

from __future__ import annotations

import os
import signal

import pytest

from jobs import services
from jobs.models import Job
from realtime.models import Activity
from tests.jobs import fixtures
from tests.jobs.workers import wait_for, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), fixtures.SQS_WARNINGS]

broker = fixtures.broker
jobs_settings = fixtures.jobs_settings
# A worker process starts in a few seconds; a job's message comes back within the visibility
# timeout of the test brokers (3 s).
START = 30.0


def _held(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.status == Job.Status.RUNNING and job.progress > 10 else None


def _finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.is_finished else None


def _hold_job(editor, tmp_path) -> tuple[Job, object, object]:
    hold, runs = tmp_path / "hold", tmp_path / "runs"
    hold.touch()
    job = services.job_enqueue(
        type="test_hold", actor=editor, params={"hold": str(hold), "runs": str(runs)}
    )
    return job, hold, runs


def _completed_once(job: Job) -> bool:
    actions = Activity.objects.filter(resource_type="job", resource_id=job.pk)
    return actions.filter(action="completed_test_hold").count() == 1


def test_a_job_whose_pool_process_is_killed_completes_once_in_the_next(broker, editor, tmp_path):
    with worker_process(broker, pool="prefork") as worker:
        job, hold, runs = _hold_job(editor, tmp_path)
        wait_for(lambda: _held(job), timeout=START)
        child = int(job.worker.rpartition(":")[2])
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)
        hold.unlink()
        wait_for(lambda: _finished(job), timeout=START)
    assert (job.status, job.attempts) == ("completed", 2)
    lines = [line.split() for line in runs.read_text().splitlines()]
    assert [line[:2] for line in lines] == [["start", "1"], ["start", "2"], ["done", "2"]]
    assert lines[0][2] == str(child) != lines[1][2]
    assert _completed_once(job)


def test_a_job_whose_worker_is_killed_completes_once_on_a_new_worker(broker, editor, tmp_path):
    with worker_process(broker, pool="solo") as first:
        job, hold, runs = _hold_job(editor, tmp_path)
        wait_for(lambda: _held(job), timeout=START)
        assert job.worker.endswith(f":{first.pid}")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=START)
    hold.unlink()
    with worker_process(broker, pool="solo") as second:
        wait_for(lambda: _finished(job), timeout=START)
    assert (job.status, job.attempts) == ("completed", 2)
    assert job.worker.endswith(f":{second.pid}")
    lines = [line.split()[:2] for line in runs.read_text().splitlines()]
    assert lines == [["start", "1"], ["start", "2"], ["done", "2"]]
    assert _completed_once(job)
