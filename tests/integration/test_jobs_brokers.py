"""Jobs on real brokers (Redis, SQS in moto's server) run by a real worker thread.

Each state path ends in the rows and events a client sees; a job out of attempts lands in
the dead-letter queue, and `jobs_redrive` brings it back; bad params fail the job, never the
worker; a job is never run twice at once, nor again once finished.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from jobs import brokers, runner, services
from jobs.models import Job
from jobs.tasks import run_job_task
from realtime.models import Activity, Event
from tests.factories import EpisodeFactory
from tests.jobs import fixtures
from tests.jobs.media import stored_file, wav_bytes
from tests.jobs.workers import wait_for, worker_thread

pytestmark = [pytest.mark.django_db(transaction=True), fixtures.SQS_WARNINGS]

broker = fixtures.broker
jobs_settings = fixtures.jobs_settings


def _job_events(job: Job, *, progress: bool = True) -> list[str]:
    """The events of the job's stream, in order (`job_progress` too, unless not `progress`)."""
    stream = f"job:{job.pk}"
    return [
        row.event
        for row in Event.objects.order_by("id")
        if stream in row.streams and (progress or row.event != "job_progress")
    ]


def _finished(job: Job) -> Job | None:
    job.refresh_from_db()
    return job if job.is_finished else None


def _status(job: Job, status: str) -> Job | None:
    job.refresh_from_db()
    return job if job.status == status else None


def test_a_probe_runs_on_a_worker_to_completed(broker, editor):
    episode = EpisodeFactory()
    data = wav_bytes(seconds=0.5)
    file = stored_file(episode, "tone.wav", "audio/wav", data)
    with worker_thread(broker):
        job = services.job_enqueue(type="media_probe", actor=editor, episode=episode, file=file)
        wait_for(lambda: _finished(job))
    assert job.status == Job.Status.COMPLETED
    assert job.result["duration"] == 0.5
    assert job.result["content_type"] == "audio/x-wav"
    assert job.result["sha256"] == hashlib.sha256(data).hexdigest()
    events = _job_events(job)
    assert events[:2] == ["job_queued", "job_started"]
    assert events[-1] == "job_completed"
    assert set(events[2:-1]) <= {"job_progress"}
    jobs_activity = Activity.objects.filter(resource_type="job").order_by("id")
    actions = list(jobs_activity.values_list("action", flat=True))
    assert actions == ["queued_media_probe", "started_media_probe", "completed_media_probe"]


def test_a_job_out_of_attempts_is_dead_lettered_then_redriven(broker, editor, tmp_path):
    switch = tmp_path / "fail"
    switch.touch()
    with worker_thread(broker):
        job = services.job_enqueue(
            type="test_flaky", actor=editor, params={"switch": str(switch)}, max_attempts=3
        )
        wait_for(lambda: _finished(job))
        assert (job.status, job.attempts, job.error) == ("dead", 3, "storage timed out")
        assert wait_for(lambda: brokers.queue_depth(broker.dead_queue)) == 1
        switch.unlink()
        call_command("jobs_redrive", "--all")
        wait_for(lambda: _status(job, Job.Status.COMPLETED))
    assert job.attempts == 1
    assert brokers.queue_depth(broker.dead_queue) == 0
    assert _job_events(job, progress=False) == [
        "job_queued",
        *["job_started", "job_retry"] * 2,
        "job_started",
        "job_failed",
        "job_queued",
        "job_started",
        "job_completed",
    ]


def test_bad_params_fail_the_job_and_the_worker_goes_on(broker, editor):
    episode = EpisodeFactory()
    image = stored_file(episode, "still.png", "image/png", b"not really")
    with worker_thread(broker):
        bad = services.job_enqueue(
            type="thumbnail", actor=editor, episode=episode, file=image, params={"size": "huge"}
        )
        wait_for(lambda: _finished(bad))
        after = services.job_enqueue(type="search_index", actor=editor, episode=episode)
        wait_for(lambda: _finished(after))
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert bad.error == "params.size must be a whole number of pixels from 16 to 2048."
    assert after.status == Job.Status.COMPLETED


def test_a_job_is_never_run_twice_at_once_nor_after_it_finished(broker, editor, tmp_path):
    hold, runs = tmp_path / "hold", tmp_path / "runs"
    hold.touch()
    with worker_thread(broker):
        job = services.job_enqueue(
            type="test_hold", actor=editor, params={"hold": str(hold), "runs": str(runs)}
        )
        wait_for(lambda: _status(job, Job.Status.RUNNING) and job.progress > 10)
        # A second delivery, while it runs: another worker would find it held.
        run_job_task.apply_async(args=[job.pk])
        busy = runner.job_run(job_id=job.pk, worker="elsewhere:1")
        hold.unlink()
        wait_for(lambda: _finished(job))
        # The second message is taken after the first attempt ended: nothing left to do.
        wait_for(lambda: brokers.queue_depth(broker.queue) == 0)
    assert busy.status == "busy"
    assert busy.retry_in > 0
    assert job.status == Job.Status.COMPLETED
    assert [line.split()[:2] for line in runs.read_text().splitlines()] == [
        ["start", "1"],
        ["done", "1"],
    ]
