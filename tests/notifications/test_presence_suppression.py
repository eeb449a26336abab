"""A follower who has the episode open on a socket gets the live update, not a notification."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from episodes import services as episode_services
from realtime import presence
from realtime.consumers import RealtimeConsumer
from realtime.models import Activity, Notification
from tests.factories import EpisodeFactory, UserFactory
from tests.notifications.conftest import follow

TIMEOUT = 3

socket_test = pytest.mark.django_db(transaction=True)


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert json.loads(await communicator.receive_from(timeout=TIMEOUT))["type"] == "welcome"
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, stream: str) -> None:
    await communicator.send_to(text_data=json.dumps({"type": "subscribe", "stream": stream}))
    while True:
        frame = json.loads(await communicator.receive_from(timeout=TIMEOUT))
        if frame["type"] == "subscribed":
            return


async def _frames_until(communicator: WebsocketCommunicator, event: str) -> list[dict]:
    """Frames up to the first `event`, then whatever else arrives within a moment."""
    frames = []
    while not any(frame.get("event") == event for frame in frames):
        frames.append(json.loads(await communicator.receive_from(timeout=TIMEOUT)))
    while not await communicator.receive_nothing(timeout=0.3):
        frames.append(json.loads(await communicator.receive_from(timeout=TIMEOUT)))
    return frames


def _names(frames: list[dict]) -> list[str]:
    return [frame["event"] for frame in frames if frame["type"] == "event"]


@pytest.fixture
def people(transactional_db):
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot")
    follow(episode, bo)
    return ana, bo, episode


def _update(episode, actor, title: str):
    return database_sync_to_async(episode_services.episode_update)(
        episode=episode, actor=actor, title=title
    )


def _notifications_of(user):
    return database_sync_to_async(
        lambda: list(Notification.objects.filter(user=user).values_list("type", flat=True))
    )()


@socket_test
async def test_a_follower_with_the_episode_open_gets_the_event_but_no_notification(people):
    ana, bo, episode = people
    watcher = await _connect(bo)
    await _subscribe(watcher, f"episode:{episode.pk}")
    await _update(episode, ana, "Renamed")
    frames = await _frames_until(watcher, "episode_updated")
    await watcher.disconnect()
    assert "notification_created" not in _names(frames)
    assert await _notifications_of(bo) == []
    logged = await database_sync_to_async(
        lambda: list(Activity.objects.values_list("action", flat=True))
    )()
    assert "updated_episode" in logged


@socket_test
async def test_a_follower_who_only_watches_the_episode_list_is_notified(people):
    ana, bo, episode = people
    watcher = await _connect(bo)
    await _subscribe(watcher, "episodes")
    await _update(episode, ana, "Renamed")
    frames = await _frames_until(watcher, "notification_created")
    await watcher.disconnect()
    assert "episode_updated" in _names(frames)
    assert await _notifications_of(bo) == ["episode_updated"]


@socket_test
async def test_a_follower_who_closed_the_episode_is_notified_again(people):
    ana, bo, episode = people
    watcher = await _connect(bo)
    stream = f"episode:{episode.pk}"
    await _subscribe(watcher, stream)
    await watcher.send_to(text_data=json.dumps({"type": "unsubscribe", "stream": stream}))
    while json.loads(await watcher.receive_from(timeout=TIMEOUT))["type"] != "unsubscribed":
        pass
    await _update(episode, ana, "Renamed")
    frames = await _frames_until(watcher, "notification_created")
    await watcher.disconnect()
    [created] = [frame for frame in frames if frame.get("event") == "notification_created"]
    assert created["data"]["notification"]["message"] == "Renamed updated by ana"


@socket_test
async def test_only_the_follower_viewing_is_left_out(people):
    ana, bo, episode = people
    cy = await database_sync_to_async(UserFactory)(username="cy", roles=["viewers"])
    await database_sync_to_async(follow)(episode, cy)
    watcher = await _connect(bo)
    await _subscribe(watcher, f"episode:{episode.pk}")
    await _update(episode, ana, "Renamed")
    await _frames_until(watcher, "episode_updated")
    await watcher.disconnect()
    assert await _notifications_of(bo) == []
    assert await _notifications_of(cy) == ["episode_updated"]


@pytest.mark.django_db
def test_having_fetched_the_episode_by_rest_is_not_having_it_open(api_client_for, edit):
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot")
    follow(episode, bo)
    detail = api_client_for(bo).get(f"/api/v1/episodes/{episode.pk}/")
    assert [viewer["username"] for viewer in detail.json()["viewers"]] == ["bo"]
    edit(ana, episode, title="Renamed")
    assert list(Notification.objects.filter(user=bo).values_list("type", flat=True)) == [
        "episode_updated"
    ]


@pytest.mark.django_db
def test_with_presence_tracking_off_a_socket_viewer_is_notified(edit, settings):
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot")
    follow(episode, bo)
    presence.touch_sync(
        "episode", episode.pk, user_id=bo.pk, username="bo", connection_id="tab1", ttl=30
    )
    settings.PRESENCE_TRACKING = False
    edit(ana, episode, title="Renamed")
    assert Notification.objects.filter(user=bo).count() == 1


@pytest.mark.django_db
def test_a_socket_viewer_is_left_out_of_the_notification(edit):
    """The same rule without a consumer: presence as a socket leaves it, whatever the store."""
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot")
    follow(episode, bo)
    presence.touch_sync(
        "episode", episode.pk, user_id=bo.pk, username="bo", connection_id="tab1", ttl=30
    )
    edit(ana, episode, title="Renamed")
    assert not Notification.objects.filter(user=bo).exists()


@pytest.mark.django_db
def test_an_unreachable_presence_store_notifies_everyone(edit, settings):
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot")
    follow(episode, bo)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    edit(ana, episode, title="Renamed")
    assert Notification.objects.filter(user=bo).count() == 1
