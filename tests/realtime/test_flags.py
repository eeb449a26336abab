"""Feature flags: each one off stops its rows, never a request; they are read per request."""

from __future__ import annotations

import pytest

from realtime.models import Activity, Event, Notification
from tests.realtime.conftest import wipe_side_effects

pytestmark = pytest.mark.django_db

NEW_EPISODE = {"title": "Dawn", "episode_number": 7, "season": 2}


def write_everything(client, episode) -> None:
    """A request of each kind that has side effects; each must succeed."""
    assert client.post("/api/v1/episodes/", NEW_EPISODE).status_code == 201
    assert client.get(f"/api/v1/episodes/{episode.id}/").status_code == 200
    assert client.patch(f"/api/v1/episodes/{episode.id}/", {"title": "Changed"}).status_code == 200
    assert client.post(f"/api/v1/episodes/{episode.id}/publish/").status_code == 200
    response = client.post("/api/v1/compositions/", {"episode": episode.id, "name": "Intro"})
    assert response.status_code == 201
    assert client.delete(f"/api/v1/compositions/{response.json()['id']}/").status_code == 204
    assert client.delete(f"/api/v1/episodes/{episode.id}/").status_code == 204


@pytest.mark.parametrize("flags", [{"ACTIVITY_LOGGING": False}, {"DISABLE_ACTIVITY_LOGGING": True}])
def test_activity_logging_off_writes_no_activity(api_client_for, team, episode, settings, flags):
    for name, value in flags.items():
        setattr(settings, name, value)
    write_everything(api_client_for(team["admin"]), episode)
    assert not Activity.objects.exists()
    assert not Event.objects.filter(event="activity_logged").exists()
    assert Notification.objects.exists()
    assert Event.objects.filter(event="episode_published").exists()


def test_notifications_off_writes_no_notification(api_client_for, team, episode, settings):
    settings.NOTIFICATIONS = False
    write_everything(api_client_for(team["admin"]), episode)
    assert not Notification.objects.exists()
    assert not Event.objects.filter(event="notification_created").exists()
    assert Activity.objects.filter(action="published_episode").exists()


def test_notification_endpoints_work_with_notifications_off(api_client_for, viewer, settings):
    settings.NOTIFICATIONS = False
    client = api_client_for(viewer)
    assert client.get("/api/v1/notifications/").status_code == 200
    assert client.get("/api/v1/notifications/unread-count/").json() == {"count": 0}
    assert client.post("/api/v1/notifications/read-all/").status_code == 200


def test_broadcast_off_writes_no_event(api_client_for, team, episode, settings):
    settings.WEBSOCKET_BROADCAST = False
    write_everything(api_client_for(team["admin"]), episode)
    assert not Event.objects.exists()
    assert Activity.objects.filter(action="deleted_episode").exists()
    assert Notification.objects.filter(type="episode_published").exists()


def test_broadcast_off_still_marks_notifications_read(api_client_for, viewer, settings):
    settings.WEBSOCKET_BROADCAST = False
    Notification.objects.create(user=viewer, type="t", message="m")
    response = api_client_for(viewer).post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread_count": 0}
    assert not Event.objects.exists()


def test_presence_tracking_off_still_serves_the_episode(api_client_for, team, episode, settings):
    settings.PRESENCE_TRACKING = False
    response = api_client_for(team["viewer"]).get(f"/api/v1/episodes/{episode.id}/")
    assert response.status_code == 200
    assert response.json()["title"] == "Pilot"


def test_every_flag_off_still_serves_every_request(api_client_for, team, episode, settings):
    settings.ACTIVITY_LOGGING = False
    settings.NOTIFICATIONS = False
    settings.PRESENCE_TRACKING = False
    settings.WEBSOCKET_BROADCAST = False
    write_everything(api_client_for(team["admin"]), episode)
    assert not Activity.objects.exists()
    assert not Notification.objects.exists()
    assert not Event.objects.exists()


def test_flags_are_read_at_each_request(api_client_for, team, episode, settings):
    client = api_client_for(team["editor"])
    settings.ACTIVITY_LOGGING = False
    client.patch(f"/api/v1/episodes/{episode.id}/", {"title": "Off"})
    assert not Activity.objects.exists()
    settings.ACTIVITY_LOGGING = True
    client.patch(f"/api/v1/episodes/{episode.id}/", {"title": "On"})
    assert list(Activity.objects.values_list("metadata__title", flat=True)) == ["On"]


def test_a_view_while_logging_was_off_does_not_hide_the_next_one(
    api_client_for, team, episode, settings
):
    client = api_client_for(team["viewer"])
    settings.ACTIVITY_LOGGING = False
    client.get(f"/api/v1/episodes/{episode.id}/")
    settings.ACTIVITY_LOGGING = True
    wipe_side_effects()
    client.get(f"/api/v1/episodes/{episode.id}/")
    assert list(Activity.objects.values_list("action", flat=True)) == ["viewed_episode"]
