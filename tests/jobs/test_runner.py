"""One attempt of a job: how each way a handler can end becomes a state, and who may run it."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from common.actor import acting_as
from jobs import runner, services
from jobs.models import Job
from tests.factories import EpisodeFactory
from tests.jobs.media import stored_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode():
    return EpisodeFactory()


def _queued(type: str = "search_index", episode=None, **fields) -> Job:
    params = fields.pop("params", {})
    return Job.objects.create(type=type, episode=episode, params=params, **fields)


def _run(job: Job) -> runner.Outcome:
    with acting_as(None):
        outcome = runner.job_run(job_id=job.pk)
    job.refresh_from_db()
    return outcome


def test_a_job_that_succeeds_is_completed_with_its_result(episode):
    job = _queued(episode=episode)
    outcome = _run(job)
    assert outcome.status == "completed"
    assert (job.status, job.progress, job.attempts) == ("completed", 100, 1)
    assert job.result["episode_id"] == episode.pk
    assert job.finished_at is not None
    assert job.lease_expires_at is None


def test_a_passing_error_is_retried_after_a_backoff(tmp_path, settings):
    settings.JOBS_RETRY_BACKOFF, settings.JOBS_RETRY_BACKOFF_MAX = 4.0, 600.0
    switch = tmp_path / "fail"
    switch.touch()
    job = _queued("test_flaky", params={"switch": str(switch)}, max_attempts=3)
    outcome = _run(job)
    assert (outcome.status, job.status, job.attempts) == ("retrying", "retrying", 1)
    assert job.error == "storage timed out"
    assert 2.0 <= outcome.retry_in <= 4.0


def test_the_last_attempt_of_a_passing_error_is_dead(tmp_path):
    switch = tmp_path / "fail"
    switch.touch()
    job = _queued("test_flaky", params={"switch": str(switch)}, max_attempts=2)
    outcomes = [_run(job).status, _run(job).status]
    assert outcomes == ["retrying", "dead"]
    assert (job.status, job.attempts, job.error) == ("dead", 2, "storage timed out")


def test_a_handler_bug_is_retried_with_its_exception_as_the_error():
    job = _queued("test_crash", max_attempts=2)
    assert _run(job).status == "retrying"
    assert job.error == "KeyError: 'missing'"


def test_a_thumbnail_of_something_else_fails_at_once(episode):
    file = stored_file(episode, "notes.png", "image/png", b"plain text")
    job = _queued("thumbnail", episode=episode, file=file)
    assert _run(job).status == "failed"
    assert (job.status, job.attempts) == ("failed", 1)
    assert "is not an image" in job.error


@pytest.mark.parametrize(
    ("type", "params", "error"),
    [
        ("no_such_type", {}, "Unknown job type 'no_such_type'; known types:"),
        ("search_index", {"deep": True}, "This job takes no params; got deep."),
        ("media_probe", {}, "A media_probe job needs a file."),
    ],
)
def test_bad_params_fail_at_once_with_a_clear_error(episode, type, params, error):
    job = _queued(type, episode=episode, params=params)
    assert _run(job).status == "failed"
    assert job.error.startswith(error)


def test_a_finished_job_is_never_run_again(episode):
    job = _queued(episode=episode)
    _run(job)
    finished_at = job.finished_at
    assert _run(job).status == "finished"
    assert (job.attempts, job.finished_at) == (1, finished_at)


def _running(episode, *, lease: timedelta, worker: str, attempts: int = 1) -> Job:
    return _queued(
        episode=episode,
        status=Job.Status.RUNNING,
        attempts=attempts,
        started_at=timezone.now(),
        lease_expires_at=timezone.now() + lease,
        worker=worker,
    )


def test_a_job_held_by_a_live_attempt_is_not_run_again(episode):
    job = _running(episode, lease=timedelta(seconds=30), worker="elsewhere:123")
    outcome = _run(job)
    assert outcome.status == "busy"
    assert 25 < outcome.retry_in <= 30
    assert (job.status, job.attempts) == ("running", 1)


def test_a_job_whose_attempt_stopped_beating_is_started_again(episode):
    job = _running(episode, lease=timedelta(seconds=-1), worker="elsewhere:123")
    assert _run(job).status == "completed"
    assert job.attempts == 2


def test_a_job_whose_worker_process_is_gone_is_started_again_at_once(episode):
    command = [sys.executable, "-c", "import os; print(os.getpid())"]
    gone = subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    worker = f"{services.current_worker().rpartition(':')[0]}:{int(gone.stdout)}"
    job = _running(episode, lease=timedelta(seconds=30), worker=worker)
    assert _run(job).status == "completed"
    assert job.attempts == 2


def test_a_job_whose_workers_died_on_every_attempt_is_dead(episode):
    job = _running(episode, lease=timedelta(seconds=-1), worker="elsewhere:9", attempts=3)
    assert _run(job).status == "dead"
    assert job.status == Job.Status.DEAD
    assert job.error == (
        "The worker running attempt 3 of 3 was lost (elsewhere:9); no attempt is left."
    )


def test_an_attempt_taken_over_cannot_complete_the_job(episode):
    job = _running(episode, lease=timedelta(seconds=-1), worker="elsewhere:9")
    taken_over = services.job_start(job=job)
    services.job_complete(job=job, result={"late": True}, attempt=1)
    taken_over.refresh_from_db()
    assert (taken_over.status, taken_over.attempts, taken_over.result) == ("running", 2, None)


def test_a_heartbeat_extends_the_lease_of_the_current_attempt_only(episode):
    job = _running(episode, lease=timedelta(seconds=1), worker="here:1")
    before = job.lease_expires_at
    assert services.job_heartbeat(job=job)
    job.refresh_from_db()
    assert job.lease_expires_at > before
    job.attempts = 7
    assert not services.job_heartbeat(job=job)


def test_progress_is_written_only_when_the_whole_percent_grows(episode, monkeypatch):
    job = _running(episode, lease=timedelta(seconds=30), worker="here:1")
    written: list[int] = []
    monkeypatch.setattr(
        services, "job_report_progress", lambda *, job, progress: written.append(progress)
    )
    report = runner.ProgressReport(job)
    for percent in (10.2, 10.7, 5, 11, 99.9, 100):
        report(percent)
    assert written == [10, 11, 99, 100]


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)])
def test_the_backoff_doubles_per_attempt_up_to_a_cap_with_jitter(settings, attempt, ceiling):
    settings.JOBS_RETRY_BACKOFF, settings.JOBS_RETRY_BACKOFF_MAX = 2.0, 60.0
    delays = [runner.backoff(attempt) for _ in range(200)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_stale_running_jobs_are_sent_to_the_workers_again(episode, monkeypatch, settings):
    settings.JOBS_LEASE_SECONDS = 10
    stale = _running(episode, lease=timedelta(seconds=-11), worker="elsewhere:1")
    _running(episode, lease=timedelta(seconds=-1), worker="elsewhere:2")
    sent: list[int] = []
    monkeypatch.setattr(services, "_dispatch_on_commit", lambda job: sent.append(job.pk))
    assert runner.jobs_recover_stale() == 1
    assert sent == [stale.pk]


def test_the_tests_own_handlers_are_known_only_where_configured(settings):
    from jobs import registry

    assert "test_flaky" in registry.job_types()
    settings.JOBS_HANDLER_MODULES = [m for m in settings.JOBS_HANDLER_MODULES if "tests" not in m]
    assert sorted(registry.job_types()) == [
        "export_episode",
        "media_probe",
        "search_index",
        "thumbnail",
    ]


def test_nothing_runs_in_a_missing_job():
    assert runner.job_run(job_id=987654).status == "missing"
