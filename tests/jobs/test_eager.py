"""The embedded default: no broker, jobs run in-process once queued, with the same states and
events as on a worker."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.models import Job
from realtime.models import Activity, Event
from tests.factories import EpisodeFactory
from tests.jobs.media import stored_file, wav_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatching")]


def _job_events(job: Job) -> list[str]:
    stream = f"job:{job.pk}"
    return [row.event for row in Event.objects.order_by("id") if stream in row.streams]


def _actions(job: Job) -> list[str]:
    rows = Activity.objects.filter(resource_type="job", resource_id=job.pk).order_by("id")
    return list(rows.values_list("action", flat=True))


def test_a_queued_job_runs_in_process_to_completed(editor):
    episode = EpisodeFactory()
    file = stored_file(episode, "tone.wav", "audio/wav", wav_bytes())
    job = services.job_enqueue(type="media_probe", actor=editor, episode=episode, file=file)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result["duration"]) == ("completed", 1, 0.5)
    assert _actions(job) == ["queued_media_probe", "started_media_probe", "completed_media_probe"]
    events = _job_events(job)
    assert [events[0], events[1], events[-1]] == ["job_queued", "job_started", "job_completed"]
    assert set(events[2:-1]) == {"job_progress"}


def test_a_failing_job_is_retried_in_process_until_dead(editor, tmp_path):
    switch = tmp_path / "fail"
    switch.touch()
    job = services.job_enqueue(
        type="test_flaky", actor=editor, params={"switch": str(switch)}, max_attempts=3
    )
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("dead", 3)
    assert _actions(job) == [
        "queued_test_flaky",
        *["started_test_flaky", "retried_test_flaky"] * 2,
        "started_test_flaky",
        "dead_test_flaky",
    ]
    failed = Event.objects.get(event="job_failed")
    assert (failed.data["status"], failed.data["attempt"]) == ("dead", 3)


def test_a_job_posted_to_the_api_has_run_when_the_response_arrives(api_client_for, editor):
    episode = EpisodeFactory()
    response = api_client_for(editor).post(
        "/api/v1/jobs/", {"type": "search_index", "episode": episode.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.status, job.result["episode_id"]) == ("completed", episode.pk)
