"""`episodes/{id}/mute/`: PUT mutes, DELETE unmutes, both idempotent; 404 for no episode."""

from __future__ import annotations

import pytest

from realtime.models import EpisodeMute

pytestmark = pytest.mark.django_db


def mute_url(episode_id: int) -> str:
    return f"/api/v1/episodes/{episode_id}/mute/"


def muted_ids(user) -> list[int]:
    return list(EpisodeMute.objects.filter(user=user).values_list("episode_id", flat=True))


def test_put_mutes_the_episode_and_says_so(api_client_for, bo, episode):
    response = api_client_for(bo).put(mute_url(episode.pk))
    assert response.status_code == 200
    assert response.json() == {"episode": episode.pk, "muted": True}
    assert muted_ids(bo) == [episode.pk]


def test_put_twice_is_one_mute(api_client_for, bo, episode):
    client = api_client_for(bo)
    assert client.put(mute_url(episode.pk)).status_code == 200
    assert client.put(mute_url(episode.pk)).json() == {"episode": episode.pk, "muted": True}
    assert muted_ids(bo) == [episode.pk]


def test_delete_unmutes_and_a_second_delete_is_fine(api_client_for, bo, episode):
    client = api_client_for(bo)
    client.put(mute_url(episode.pk))
    first = client.delete(mute_url(episode.pk))
    second = client.delete(mute_url(episode.pk))
    assert (first.status_code, second.status_code) == (204, 204)
    assert first.content == b""
    assert muted_ids(bo) == []


def test_a_mute_is_the_callers_own(api_client_for, bo, cy, episode):
    api_client_for(bo).put(mute_url(episode.pk))
    api_client_for(cy).delete(mute_url(episode.pk))
    assert muted_ids(bo) == [episode.pk]
    assert muted_ids(cy) == []


def test_the_mute_shows_in_the_preferences(api_client_for, bo, episode):
    client = api_client_for(bo)
    client.put(mute_url(episode.pk))
    assert client.get("/api/v1/notifications/preferences/").json()["muted_episodes"] == [episode.pk]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_an_episode_that_does_not_exist_is_a_404(api_client_for, bo, method):
    response = getattr(api_client_for(bo), method)(mute_url(987654))
    assert response.status_code == 404
    assert not EpisodeMute.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/episodes/abc/mute/", "/api/v1/episodes/-1/mute/"])
def test_an_id_that_is_not_one_is_a_404(api_client_for, bo, path):
    assert api_client_for(bo).put(path).status_code == 404


def test_an_id_too_large_for_the_database_is_a_404(api_client_for, bo):
    assert api_client_for(bo).put(mute_url(2**70)).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_user_without_a_role_is_refused_before_the_episode_is_looked_up(
    api_client_for, outsider, episode, method
):
    response = getattr(api_client_for(outsider), method)(mute_url(episode.pk))
    assert response.status_code == 403
    assert not EpisodeMute.objects.exists()


def test_anonymous_callers_are_refused(anon_client, episode):
    assert anon_client.put(mute_url(episode.pk)).status_code == 403


def test_get_is_not_allowed(api_client_for, bo, episode):
    assert api_client_for(bo).get(mute_url(episode.pk)).status_code == 405


def test_deleting_the_episode_deletes_its_mutes(api_client_for, bo, ana, episode):
    api_client_for(bo).put(mute_url(episode.pk))
    assert api_client_for(ana).delete(f"/api/v1/episodes/{episode.pk}/").status_code == 204
    assert not EpisodeMute.objects.exists()
