"""Worker health in /metrics: jobs by status, stale attempts, and Redis queue depths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs.models import Job
from jobs.tasks import run_job_task
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


def _samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_jobs_are_counted_by_status(anon_client):
    episode = EpisodeFactory()
    for status in ("queued", "dead", "dead", "completed"):
        Job.objects.create(type="search_index", episode=episode, status=status)
    samples = _samples(anon_client)
    counts = {
        status: samples[("showdesk_jobs", (("status", status),))] for status in Job.Status.values
    }
    assert counts == {
        "queued": 1,
        "running": 0,
        "retrying": 0,
        "completed": 1,
        "failed": 0,
        "dead": 2,
    }


def test_running_jobs_whose_worker_stopped_beating_are_counted(anon_client):
    episode = EpisodeFactory()
    now = timezone.now()
    for lease in (timedelta(seconds=-5), timedelta(seconds=30)):
        Job.objects.create(
            type="search_index", episode=episode, status="running", lease_expires_at=now + lease
        )
    assert _samples(anon_client)[("showdesk_jobs_stale_running", ())] == 1


@pytest.mark.redis
def test_a_redis_brokers_queue_depths_are_shown(anon_client, redis_only_broker):
    broker = redis_only_broker
    run_job_task.apply_async(args=[1])
    run_job_task.apply_async(args=[2])
    samples = _samples(anon_client)
    depth = "showdesk_jobs_queue_depth"
    assert samples[(depth, (("queue", broker.queue),))] == 2
    assert samples[(depth, (("queue", broker.dead_queue),))] == 0
