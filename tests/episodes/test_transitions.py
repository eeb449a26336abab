"""Publishing and archiving episodes: the legal transitions, and 409 for the others."""

from __future__ import annotations

import pytest

from episodes.models import Episode
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(fast_client_for, editor):
    return fast_client_for(editor)


def _post(client, episode_id: int, action: str):
    return client.post(f"/api/v1/episodes/{episode_id}/{action}/")


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("draft", "publish", "published"),
        ("published", "archive", "archived"),
        ("archived", "publish", "published"),
        ("draft", "archive", "archived"),
    ],
)
def test_legal_transition_returns_the_episode_in_its_new_status(client, start, action, end):
    episode = EpisodeFactory(status=start)
    response = _post(client, episode.pk, action)
    assert response.status_code == 200
    assert response.json()["id"] == episode.pk
    assert response.json()["status"] == end


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [("draft", "publish", "published"), ("published", "archive", "archived")],
)
def test_legal_transition_is_saved(client, start, action, end):
    episode = EpisodeFactory(status=start)
    _post(client, episode.pk, action)
    episode.refresh_from_db()
    assert episode.status == end


def test_publishing_a_published_episode_is_a_409_that_explains_itself(client):
    episode = EpisodeFactory(status="published")
    response = _post(client, episode.pk, "publish")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot publish an episode that is published.",
        "code": "conflict",
        "status": "published",
        "allowed_from": ["archived", "draft"],
    }


def test_archiving_an_archived_episode_is_a_409_that_explains_itself(client):
    episode = EpisodeFactory(status="archived")
    response = _post(client, episode.pk, "archive")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot archive an episode that is archived.",
        "code": "conflict",
        "status": "archived",
        "allowed_from": ["draft", "published"],
    }


@pytest.mark.parametrize(("status", "action"), [("published", "publish"), ("archived", "archive")])
def test_illegal_transition_leaves_the_episode_unchanged(client, status, action):
    episode = EpisodeFactory(status=status)
    before = Episode.objects.values("status", "updated_at").get(pk=episode.pk)
    _post(client, episode.pk, action)
    assert Episode.objects.values("status", "updated_at").get(pk=episode.pk) == before


@pytest.mark.parametrize("action", ["publish", "archive"])
def test_transition_of_an_unknown_episode_is_404(client, action):
    response = _post(client, 987654, action)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(("action", "end"), [("publish", "published"), ("archive", "archived")])
def test_transition_ignores_a_request_body(client, action, end):
    episode = EpisodeFactory(status="draft")
    response = client.post(
        f"/api/v1/episodes/{episode.pk}/{action}/", {"status": "draft"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == end


@pytest.mark.parametrize("action", ["publish", "archive"])
def test_transitions_answer_get_with_405(client, action):
    episode = EpisodeFactory(status="draft")
    assert client.get(f"/api/v1/episodes/{episode.pk}/{action}/").status_code == 405


def test_status_cannot_be_changed_by_patch(client):
    episode = EpisodeFactory(status="draft")
    response = client.patch(
        f"/api/v1/episodes/{episode.pk}/", {"status": "published"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    episode.refresh_from_db()
    assert episode.status == "draft"
