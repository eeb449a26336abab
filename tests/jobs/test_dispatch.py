"""Jobs reach the workers once their transaction commits, never before nor on a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from common.errors import ConflictError
from jobs import services
from jobs.models import Job
from jobs.tasks import run_job_task
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch, dispatching) -> list[int]:
    """The job ids handed to the broker, instead of running them."""
    ids: list[int] = []
    monkeypatch.setattr(run_job_task, "apply_async", lambda args, **options: ids.append(args[0]))
    return ids


@pytest.fixture
def episode():
    return EpisodeFactory()


def _dead(episode) -> Job:
    return Job.objects.create(
        type="search_index", episode=episode, status=Job.Status.DEAD, attempts=3, error="x"
    )


def test_a_queued_job_is_sent_once_its_transaction_commits(
    sent, editor, episode, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_enqueue(type="search_index", actor=editor, episode=episode)
        assert sent == []
    assert sent == [job.pk]


def test_a_job_queued_in_a_rolled_back_transaction_is_never_sent(
    sent, editor, episode, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.job_enqueue(type="search_index", actor=editor, episode=episode)
        raise RuntimeError("the request failed after queuing")
    assert sent == []
    assert not Job.objects.exists()


def test_nothing_is_sent_while_dispatch_is_off(
    sent, settings, editor, episode, django_capture_on_commit_callbacks
):
    settings.JOBS_DISPATCH = False
    with django_capture_on_commit_callbacks(execute=True):
        services.job_enqueue(type="search_index", actor=editor, episode=episode)
    assert sent == []


@pytest.mark.parametrize("service", [services.job_retry, services.job_redrive])
def test_a_dead_job_put_back_in_the_queue_is_sent_again(
    sent, admin, episode, service, django_capture_on_commit_callbacks
):
    job = _dead(episode)
    with django_capture_on_commit_callbacks(execute=True):
        requeued = service(job=job, actor=admin)
    assert sent == [job.pk]
    assert (requeued.status, requeued.attempts, requeued.error) == ("queued", 0, "")


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "completed", "failed"])
def test_only_a_dead_job_can_be_redriven(sent, admin, episode, status):
    job = Job.objects.create(type="search_index", episode=episode, status=status)
    with pytest.raises(ConflictError) as raised:
        services.job_redrive(job=job, actor=admin)
    assert raised.value.extra == {"status": status, "allowed_from": ["dead"]}


def test_a_broker_that_cannot_be_reached_leaves_the_job_queued(
    monkeypatch, dispatching, editor, episode, django_capture_on_commit_callbacks
):
    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(run_job_task, "apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_enqueue(type="search_index", actor=editor, episode=episode)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_a_finished_job_is_not_sent_again(sent, episode, django_capture_on_commit_callbacks):
    job = Job.objects.create(type="search_index", episode=episode, status=Job.Status.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.job_resend(job=job)
    assert sent == []
