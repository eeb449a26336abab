"""With Redis down, writes still succeed and their events wait; once it is back, they go out."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.management import call_command

from episodes.models import Episode
from realtime import relay
from realtime.models import Event
from realtime.streams import group_name
from tests.factories import UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CLOSED_PORT = "redis://127.0.0.1:1/0"
RECEIVE_TIMEOUT = 5.0
LISTENED_STREAMS = ("episodes", "activity")


@pytest.fixture
def layers(settings) -> dict:
    """The configured channel layer, and the same layer pointed at a port nothing listens on."""
    up = copy.deepcopy(settings.CHANNEL_LAYERS)
    down = copy.deepcopy(up)
    down["default"]["CONFIG"]["hosts"] = [CLOSED_PORT]
    settings.CHANNEL_LAYERS = down
    return {"up": up, "down": down}


@pytest.fixture
def editor_client(api_client_for):
    UserFactory(username="ada", roles=["admins"])
    UserFactory(username="vera", roles=["viewers"])
    return api_client_for(UserFactory(username="ed", roles=["editors"]))


def _create_episodes(client, count: int) -> list[int]:
    ids = []
    for number in range(1, count + 1):
        response = client.post(
            "/api/v1/episodes/", {"title": f"Take {number}", "episode_number": number}
        )
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def _expected_frames() -> list[tuple[int, str]]:
    return [
        (row.position, stream)
        for row in Event.objects.order_by("position")
        for stream in row.streams
        if stream in LISTENED_STREAMS
    ]


@dataclass
class Heard:
    result: Any
    frames: list[tuple[int, str]]
    expected: list[tuple[int, str]]
    after_them: str


def _relay_while_listening(run: Callable[[], Any]) -> Heard:
    """Run the relay while a channel is a member of the listened streams' groups.

    All on one event loop, as in a server process (the pub/sub layer's subscriptions live
    on their loop): join, relay, take every frame expected, then send a marker and report
    what comes next, which is the marker unless something was sent twice.
    """
    layer = get_channel_layer()
    groups = [group_name(stream) for stream in LISTENED_STREAMS]

    async def listen() -> Heard:
        channel = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, channel)
        try:
            result = await sync_to_async(run)()
            expected = await sync_to_async(_expected_frames)()
            frames = []
            for _ in expected:
                message = await asyncio.wait_for(layer.receive(channel), RECEIVE_TIMEOUT)
                frames.append((message["id"], message["stream"]))
            await layer.group_send(groups[0], {"type": "marker"})
            after = await asyncio.wait_for(layer.receive(channel), RECEIVE_TIMEOUT)
            return Heard(result, frames, expected, after["type"])
        finally:
            for group in groups:
                await layer.group_discard(group, channel)

    return async_to_sync(listen)()


def test_writes_succeed_while_redis_is_down(layers, editor_client):
    ids = _create_episodes(editor_client, 3)

    assert sorted(Episode.objects.values_list("id", flat=True)) == sorted(ids)
    response = editor_client.patch(f"/api/v1/episodes/{ids[0]}/", {"title": "Retake"})
    assert response.status_code == 200
    assert response.json()["title"] == "Retake"


def test_events_stay_unpublished_while_redis_is_down(layers, editor_client):
    _create_episodes(editor_client, 3)

    events = list(Event.objects.values_list("event", "published_at"))
    assert [name for name, _ in events].count("episode_created") == 3
    assert all(published_at is None for _, published_at in events)


def test_a_relay_round_after_redis_returns_publishes_the_backlog_in_order(
    layers, settings, editor_client
):
    ids = _create_episodes(editor_client, 3)
    editor_client.patch(f"/api/v1/episodes/{ids[0]}/", {"title": "Retake"})
    assert not Event.objects.filter(published_at__isnull=False).exists()

    settings.CHANNEL_LAYERS = layers["up"]
    out = StringIO()
    heard = _relay_while_listening(lambda: call_command("run_relay", "--once", stdout=out))

    total = Event.objects.count()
    assert out.getvalue().strip() == f"Published {total} event(s)."
    assert not Event.objects.filter(published_at__isnull=True).exists()
    # The requests ran one after another, so commit order is key order.
    positions = list(Event.objects.order_by("id").values_list("position", flat=True))
    assert positions == list(range(1, total + 1))
    assert heard.frames == heard.expected


def test_publish_pending_after_redis_returns_sends_each_event_once(layers, settings, editor_client):
    _create_episodes(editor_client, 2)
    settings.CHANNEL_LAYERS = layers["up"]

    heard = _relay_while_listening(lambda: (relay.publish_pending(), relay.publish_pending()))

    assert heard.result == (Event.objects.count(), 0)
    assert heard.frames == heard.expected
    assert heard.after_them == "marker"
