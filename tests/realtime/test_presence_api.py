"""Who is viewing, over REST: the episode detail and GET presence/{type}/{id}/ agree."""

from __future__ import annotations

import pytest

from realtime.models import Event
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(db):
    return EpisodeFactory(title="Pilot")


def _names(viewers: list[dict]) -> list[str]:
    return [viewer["username"] for viewer in viewers]


def test_the_detail_makes_the_caller_a_viewer_and_lists_viewers(api_client_for, episode, viewer):
    body = api_client_for(viewer).get(f"/api/v1/episodes/{episode.pk}/").json()
    assert _names(body["viewers"]) == ["vera"]
    assert set(body["viewers"][0]) == {"user_id", "username", "since", "state"}


def test_two_users_are_listed_once_each_however_often_they_look(
    api_client_for, episode, viewer, editor
):
    for user in (viewer, editor, viewer):
        api_client_for(user).get(f"/api/v1/episodes/{episode.pk}/")
    body = api_client_for(editor).get(f"/api/v1/presence/episode/{episode.pk}/").json()
    assert sorted(_names(body["viewers"])) == ["ed", "vera"]


def test_viewer_joined_is_emitted_once_per_user(api_client_for, episode, viewer):
    client = api_client_for(viewer)
    client.get(f"/api/v1/episodes/{episode.pk}/")
    client.get(f"/api/v1/episodes/{episode.pk}/")
    joined = Event.objects.filter(event="viewer_joined")
    assert [row.streams for row in joined] == [[f"episode:{episode.pk}"]]
    assert joined.get().data["user"] == {"id": viewer.pk, "username": "vera"}


def test_presence_of_a_missing_resource_is_404(api_client_for, viewer):
    assert api_client_for(viewer).get("/api/v1/presence/episode/987654/").status_code == 404
    assert api_client_for(viewer).get("/api/v1/presence/bogus/1/").status_code == 404


def test_presence_needs_a_role(api_client_for, episode, outsider, anon_client):
    assert (
        api_client_for(outsider).get(f"/api/v1/presence/episode/{episode.pk}/").status_code == 403
    )
    assert anon_client.get(f"/api/v1/presence/episode/{episode.pk}/").status_code == 403


def test_with_presence_tracking_off_nobody_is_listed(api_client_for, episode, viewer, settings):
    settings.PRESENCE_TRACKING = False
    body = api_client_for(viewer).get(f"/api/v1/episodes/{episode.pk}/").json()
    assert body["viewers"] == []
    assert not Event.objects.filter(event="viewer_joined").exists()


def test_presence_down_leaves_the_detail_working(api_client_for, episode, viewer, monkeypatch):
    from realtime import presence

    def unavailable(*args, **kwargs):
        raise presence.PresenceUnavailable("down")

    monkeypatch.setattr(presence, "touch_sync", unavailable)
    response = api_client_for(viewer).get(f"/api/v1/episodes/{episode.pk}/")
    assert response.status_code == 200
    assert response.json()["viewers"] == []
