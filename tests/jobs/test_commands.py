"""The ops commands: list dead jobs, redrive them (dead-letter queue included), set up SQS."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs import brokers
from jobs.models import Job
from tests.factories import EpisodeFactory
from tests.jobs import fixtures
from tests.jobs.fixtures import moto_server
from tests.jobs.workers import use_broker

pytestmark = [pytest.mark.django_db, fixtures.SQS_WARNINGS]


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def episode():
    return EpisodeFactory()


def _dead(episode, error: str = "storage timed out") -> Job:
    return Job.objects.create(
        type="search_index", episode=episode, status="dead", attempts=3, error=error
    )


def test_jobs_dead_lists_the_dead_jobs_and_says_there_is_no_queue(episode):
    dead = _dead(episode, error="storage\ntimed out")
    Job.objects.create(type="search_index", episode=episode, status="failed")
    out, _ = _run("jobs_dead")
    lines = out.splitlines()
    assert lines[0].startswith(f"{dead.pk}\tsearch_index\tepisode={episode.pk}\tattempts=3/3\t")
    assert lines[0].endswith("\tstorage timed out")
    assert lines[1:] == [
        "1 dead job(s).",
        "No broker: jobs run in-process, there is no dead-letter queue.",
    ]


def test_jobs_redrive_requeues_the_jobs_given(episode):
    first, second = _dead(episode), _dead(episode)
    out, _ = _run("jobs_redrive", str(first.pk))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("queued", "dead")
    assert out.splitlines()[0] == f"Redrove 1 job(s): {first.pk}."


def test_jobs_redrive_all_requeues_every_dead_job(episode):
    jobs = [_dead(episode), _dead(episode)]
    _run("jobs_redrive", "--all")
    assert set(Job.objects.values_list("status", flat=True)) == {"queued"}
    assert len(jobs) == 2


def test_jobs_redrive_leaves_a_job_that_is_not_dead_alone(episode):
    done = Job.objects.create(type="search_index", episode=episode, status="completed")
    _, err = _run("jobs_redrive", str(done.pk))
    assert err == f"Job {done.pk} is completed, not dead: left alone.\n"
    done.refresh_from_db()
    assert done.status == "completed"


@pytest.mark.parametrize("args", [(), ("--all", "1")])
def test_jobs_redrive_wants_ids_or_all(args):
    with pytest.raises(CommandError, match="either --all or the ids"):
        call_command("jobs_redrive", *args)


def test_a_redrive_of_some_jobs_puts_the_other_dead_letters_back(broker, episode):
    first, second = _dead(episode), _dead(episode)
    for job in (first, second):
        brokers.dead_letter_send(job_id=job.pk, error=job.error)
    _run("jobs_redrive", str(first.pk))
    assert brokers.queue_depth(broker.dead_queue) == 1
    taken: list[brokers.DeadLetter] = []
    brokers.dead_letters_drain(lambda letter: taken.append(letter) or True)
    assert taken == [brokers.DeadLetter(job_id=second.pk, error="storage timed out")]


def test_a_dead_letter_of_a_job_no_longer_dead_is_dropped(broker, episode):
    job = Job.objects.create(type="search_index", episode=episode, status="completed")
    brokers.dead_letter_send(job_id=job.pk, error="old news")
    out, _ = _run("jobs_redrive", "--all")
    assert brokers.queue_depth(broker.dead_queue) == 0
    assert out.splitlines()[-1] == (
        "Dead-letter queue: 1 message(s) taken, 0 put back, 1 stale dropped."
    )


def test_jobs_setup_queues_makes_the_queue_and_its_dead_letter_queue(settings):
    moto = moto_server()
    moto.reset()
    url = moto.broker().url
    with use_broker(moto.broker(), settings) as broker:
        out, _ = _run("jobs_setup_queues", "--broker-url", url)
        client = brokers.sqs_client(url)
        main = client.get_queue_url(QueueName=broker.queue)["QueueUrl"]
        dead = client.get_queue_url(QueueName=broker.dead_queue)["QueueUrl"]
        attributes = client.get_queue_attributes(QueueUrl=main, AttributeNames=["All"])
        dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    assert out.splitlines() == [f"{broker.queue}\t{main}", f"{broker.dead_queue}\t{dead}"]
    policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == dead_arn["Attributes"]["QueueArn"]
    assert int(policy["maxReceiveCount"]) == settings.JOBS_SQS_MAX_RECEIVE_COUNT
    assert int(attributes["Attributes"]["VisibilityTimeout"]) == settings.JOBS_VISIBILITY_TIMEOUT


def test_jobs_setup_queues_has_nothing_to_do_for_redis():
    out, _ = _run("jobs_setup_queues", "--broker-url", "redis://127.0.0.1:6379/1")
    assert out == "redis creates its queues itself: nothing to do.\n"
