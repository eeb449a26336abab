"""The seed's job scenarios end to end: a job completes; a job fails after its retries.

An editor starts the job through the service, a worker (the system) runs it; every state
change leaves its activity, its events on the contract's streams, and, for a failure, the
notifications of admins and of the editor who started it. Events are then published.
"""

from __future__ import annotations

import pytest

from common.actor import acting_as
from jobs import services as job_services
from jobs.models import Job
from realtime import relay
from realtime.models import Activity, Event, Notification
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(transactional_db) -> dict:
    return {
        "editor": UserFactory(username="ed", roles=["editors"]),
        "admin": UserFactory(username="ada", roles=["admins"]),
        "other_admin": UserFactory(username="abe", roles=["admins"]),
        "viewer": UserFactory(username="vera", roles=["viewers"]),
    }


@pytest.fixture
def episode(people):
    episode = EpisodeFactory(title="Pilot")
    Activity.objects.all().delete()
    Notification.objects.all().delete()
    Event.objects.all().delete()
    return episode


def _job_events(job: Job) -> list[tuple[str, list[str]]]:
    rows = Event.objects.exclude(event__in=["activity_logged", "notification_created"])
    return [(row.event, row.streams) for row in rows.order_by("id")]


def _actions() -> list[tuple[str, str | None]]:
    rows = Activity.objects.select_related("user").order_by("id")
    return [(row.action, row.user.username if row.user else None) for row in rows]


def _run_to_completion(job: Job) -> None:
    with acting_as(None):
        job = job_services.job_start(job=job)
        for progress in (25, 50, 100):
            job_services.job_report_progress(job=job, progress=progress)
        job_services.job_complete(job=job, result={"duration": 12.5})


def test_a_job_completes(people, episode):
    job = job_services.job_enqueue(type="media_probe", episode=episode, actor=people["editor"])
    _run_to_completion(job)

    streams = [f"job:{job.pk}", f"episode:{episode.pk}"]
    assert _actions() == [
        ("queued_media_probe", "ed"),
        ("started_media_probe", None),
        ("completed_media_probe", None),
    ]
    events = _job_events(job)
    assert [name for name, _ in events] == [
        "job_queued",
        "job_started",
        "job_progress",
        "job_progress",
        "job_completed",
    ]
    assert all(event_streams == streams for _, event_streams in events)
    assert not Notification.objects.exists()
    completed = Event.objects.get(event="job_completed")
    assert completed.data["result"] == {"duration": 12.5}
    assert not Event.objects.filter(position__isnull=True).exists()
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_a_job_fails_after_its_retries(people, episode):
    job = job_services.job_enqueue(
        type="thumbnail", episode=episode, actor=people["editor"], max_attempts=2
    )
    with acting_as(None):
        for _ in range(2):
            job = job_services.job_start(job=job)
            job = job_services.job_fail(job=job, error="decoder crashed", retryable=True)
    assert job.status == Job.Status.DEAD

    assert _actions() == [
        ("queued_thumbnail", "ed"),
        ("started_thumbnail", None),
        ("retried_thumbnail", None),
        ("started_thumbnail", None),
        ("dead_thumbnail", None),
    ]
    admins_too = [f"job:{job.pk}", f"episode:{episode.pk}", "role:admins"]
    events = _job_events(job)
    assert [name for name, _ in events] == [
        "job_queued",
        "job_started",
        "job_retry",
        "job_started",
        "job_failed",
    ]
    assert events[2][1] == admins_too
    assert events[4][1] == admins_too

    notified = Notification.objects.filter(type="job_failed").select_related("user")
    assert sorted(row.user.username for row in notified) == ["abe", "ada", "ed"]
    assert {row.message for row in notified} == {"thumbnail failed for Pilot: decoder crashed"}
    pushed = Event.objects.filter(event="notification_created").order_by("id")
    assert sorted(row.streams[0] for row in pushed) == sorted(
        f"user:{row.user_id}" for row in notified
    )
    relay.publish_pending()
    assert not Event.objects.filter(published_at__isnull=True).exists()
