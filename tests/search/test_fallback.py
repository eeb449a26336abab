"""OpenSearch configured but down (a closed loopback port): search, edits and deletes go on."""

from __future__ import annotations

import logging
import time

import pytest

from common.actor import acting_as
from episodes import services
from jobs import runner
from jobs.models import Job
from tests.search.conftest import EPISODES, client_for, ids

pytestmark = pytest.mark.django_db


def _logged(caplog, event: str) -> list[dict]:
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == event
    ]


def test_search_answers_from_the_database_and_says_so(
    client, opensearch_down, make_episode, caplog
):
    match = make_episode("The Dragon", "it wakes")
    make_episode("Pilot")
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    response = client.get(EPISODES, {"search": "dragon"})
    assert time.monotonic() - started < 5
    assert ids(response) == [match.pk]
    assert response["X-Search-Backend"] == "database; fallback"
    [warning] = _logged(caplog, "search_fallback")
    assert warning["backend"] == "opensearch"
    assert warning["fallback"] == "database"
    assert "ConnectionError" in warning["reason"]
    assert opensearch_down not in str(warning)


@pytest.mark.parametrize("text", ['{"match_all": {}}', "*:*", '"unbalanced', "-" * 300])
def test_hostile_text_falls_back_without_a_500(client, opensearch_down, make_episode, text):
    make_episode("Pilot")
    response = client.get(EPISODES, {"search": text})
    assert response.status_code == 200
    assert response["X-Search-Backend"] == "database; fallback"


def _update(episode, editor, **fields):
    with acting_as(editor):
        return services.episode_update(episode=episode, actor=editor, **fields)


def test_an_edit_queues_an_index_job_that_goes_retrying(
    opensearch_down, make_episode, editor, django_capture_on_commit_callbacks
):
    episode = make_episode("Pilot")
    with django_capture_on_commit_callbacks(execute=True):
        _update(episode, editor, title="Pilot, recut")
    job = Job.objects.get(type="search_index", episode=episode)
    assert job.created_by is None  # the system's: no user is told of it
    outcome = runner.job_run(job_id=job.pk)
    assert outcome.status == "retrying"
    assert outcome.retry_in is not None and outcome.retry_in > 0
    job.refresh_from_db()
    assert job.status == "retrying"
    assert "OpenSearch" in job.error and "ConnectionError" in job.error


def test_edits_while_a_job_waits_to_retry_add_no_job(
    opensearch_down, make_episode, editor, django_capture_on_commit_callbacks
):
    episode = make_episode("Pilot")
    with django_capture_on_commit_callbacks(execute=True):
        _update(episode, editor, title="One")
    runner.job_run(job_id=Job.objects.get().pk)
    with django_capture_on_commit_callbacks(execute=True):
        _update(episode, editor, title="Two")
        _update(episode, editor, description="Three")
    assert Job.objects.count() == 1


def test_a_change_of_no_indexed_field_queues_nothing(
    opensearch_down, make_episode, editor, django_capture_on_commit_callbacks
):
    episode = make_episode("Pilot")
    with django_capture_on_commit_callbacks(execute=True):
        _update(episode, editor, season=2)
        with acting_as(editor):
            services.episode_publish(episode=episode, actor=editor)
    assert not Job.objects.exists()


def test_a_creation_queues_an_index_job(
    opensearch_down, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), acting_as(editor):
        episode = services.episode_create(actor=editor, title="New", episode_number=7)
    assert Job.objects.filter(type="search_index", episode=episode).count() == 1


def test_a_delete_succeeds_and_says_the_document_stays_for_now(
    opensearch_down, make_episode, editor, caplog, django_capture_on_commit_callbacks
):
    episode = make_episode("Pilot")
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).delete(f"{EPISODES}{episode.pk}/")
    assert response.status_code == 204
    [warning] = _logged(caplog, "search_unindex_failed")
    assert warning["episode_id"] == episode.pk
    assert "search_reindex" in warning["remedy"]


def test_without_opensearch_no_job_is_queued(
    make_episode, editor, django_capture_on_commit_callbacks
):
    episode = make_episode("Pilot")
    with django_capture_on_commit_callbacks(execute=True):
        _update(episode, editor, title="Renamed")
        response = client_for(editor).delete(f"{EPISODES}{episode.pk}/")
    assert response.status_code == 204
    assert not Job.objects.exists()
