"""The admin's job actions: retry (editors and admins) and redrive (admins), through services."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from jobs.models import Job
from realtime.models import Activity
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jobs/job/"


def _staff(role: str):
    user = UserFactory(username=f"staff-{role}", roles=[role])
    user.is_staff = True
    user.save()
    return user


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _act(client: Client, action: str, *jobs: Job):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(job.pk) for job in jobs]},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def episode():
    return EpisodeFactory()


def test_the_admin_redrives_dead_jobs_and_says_which_it_could_not(episode):
    dead = Job.objects.create(type="search_index", episode=episode, status="dead", attempts=3)
    done = Job.objects.create(type="search_index", episode=episode, status="completed")
    admin = _staff("admins")
    response = _act(_client(admin), "redrive", dead, done)
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("queued", 0)
    assert Activity.objects.get(action="queued_search_index").user == admin
    assert _messages(response) == [
        f"{done}: Only a dead job can be redriven; this one is completed.",
        "1 dead job(s) redriven.",
    ]


def test_an_editor_retries_a_failed_job_but_is_not_offered_redrive(episode):
    failed = Job.objects.create(type="search_index", episode=episode, status="failed")
    client = _client(_staff("editors"))
    page = client.get(CHANGELIST).content.decode()
    assert 'value="retry"' in page
    assert 'value="redrive"' not in page
    _act(client, "retry", failed)
    failed.refresh_from_db()
    assert failed.status == "queued"
