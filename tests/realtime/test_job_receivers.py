"""What each job state change writes: the activity, the events, and failure notifications."""

from __future__ import annotations

import pytest

from common.actor import acting_as
from jobs import services as job_services
from jobs.models import Job
from realtime import receivers
from realtime.models import Activity, Event, Notification
from tests.factories import EpisodeFactory
from tests.realtime.conftest import wipe_side_effects

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(db):
    return EpisodeFactory(title="Pilot")


@pytest.fixture
def queued(episode, editor) -> Job:
    wipe_side_effects()
    return job_services.job_enqueue(type="media_probe", episode=episode, actor=editor)


@pytest.fixture
def running(queued) -> Job:
    with acting_as(None):
        job = job_services.job_start(job=queued)
    wipe_side_effects()
    return job


def _events() -> list[tuple[str, list[str]]]:
    return [(row.event, row.streams) for row in Event.objects.exclude(event="activity_logged")]


def _job_streams(job: Job, *, admins: bool = False) -> list[str]:
    streams = [f"job:{job.pk}", f"episode:{job.episode_id}"]
    return [*streams, "role:admins"] if admins else streams


def test_enqueue_logs_queued_by_the_caller_and_emits_job_queued(queued, editor):
    activity = Activity.objects.get()
    assert (activity.action, activity.user, activity.resource_type) == (
        "queued_media_probe",
        editor,
        "job",
    )
    assert _events() == [("job_queued", _job_streams(queued))]
    event = Event.objects.get(event="job_queued")
    assert event.data["job_id"] == queued.pk
    assert event.data["job_type"] == "media_probe"


def test_start_by_a_worker_is_logged_as_the_system(queued):
    wipe_side_effects()
    with acting_as(None):
        job_services.job_start(job=queued)
    activity = Activity.objects.get()
    assert (activity.action, activity.user) == ("started_media_probe", None)
    assert _events() == [("job_started", _job_streams(queued))]


def test_complete_logs_completed_and_emits_the_result(running):
    job_services.job_complete(job=running, result={"size": 10})
    assert Activity.objects.get().action == "completed_media_probe"
    event = Event.objects.get(event="job_completed")
    assert event.streams == _job_streams(running)
    assert (event.data["progress"], event.data["result"]) == (100, {"size": 10})
    assert not Notification.objects.exists()


def test_a_retryable_error_is_retried_and_admins_see_it(running):
    job_services.job_fail(job=running, error="timeout", retryable=True)
    assert Activity.objects.get().action == "retried_media_probe"
    event = Event.objects.get(event="job_retry")
    assert event.streams == _job_streams(running, admins=True)
    assert (event.data["attempt"], event.data["error"]) == (1, "timeout")
    assert not Notification.objects.exists()


def test_the_last_attempt_is_dead_and_notifies_admins_and_the_starter(
    running, editor, admin, viewer
):
    Job.objects.filter(pk=running.pk).update(attempts=running.max_attempts)
    running.refresh_from_db()
    with acting_as(None):
        job_services.job_fail(job=running, error="timeout", retryable=True)
    assert Activity.objects.get().action == "dead_media_probe"
    assert Event.objects.get(event="job_failed").data["status"] == "dead"
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {admin.pk, editor.pk}
    assert Notification.objects.first().message == "media_probe failed for Pilot: timeout"


def test_a_final_error_fails_at_once(running, admin, editor):
    with acting_as(None):
        job_services.job_fail(job=running, error="not audio", retryable=False)
    assert Activity.objects.get().action == "failed_media_probe"
    event = Event.objects.get(event="job_failed")
    assert event.streams == _job_streams(running, admins=True)
    assert set(Notification.objects.values_list("type", flat=True)) == {"job_failed"}


def test_the_actor_is_not_notified_of_a_failure_they_caused(running, admin, editor):
    with acting_as(admin):
        job_services.job_fail(job=running, error="bad", retryable=False)
    assert set(Notification.objects.values_list("user_id", flat=True)) == {editor.pk}


def test_a_manual_retry_queues_it_again(running, admin):
    job_services.job_fail(job=running, error="bad", retryable=False)
    wipe_side_effects()
    job_services.job_retry(job=running, actor=admin)
    activity = Activity.objects.get()
    assert (activity.action, activity.user) == ("queued_media_probe", admin)
    assert activity.metadata["previous"] == "failed"
    assert _events() == [("job_queued", _job_streams(running))]


def test_progress_is_sent_at_most_every_250_ms_and_always_at_100(running, monkeypatch):
    clock = iter([10.0, 10.1, 10.2, 10.3, 10.31])
    monkeypatch.setattr(receivers.time, "monotonic", lambda: next(clock))
    for progress in (10, 20, 30, 40, 100):
        job_services.job_report_progress(job=running, progress=progress)
    sent = [row.data["progress"] for row in Event.objects.filter(event="job_progress")]
    assert sent == [10, 40, 100]
    running.refresh_from_db()
    assert running.progress == 100


def test_progress_of_a_job_not_running_is_ignored(queued):
    wipe_side_effects()
    job_services.job_report_progress(job=queued, progress=50)
    assert not Event.objects.filter(event="job_progress").exists()
