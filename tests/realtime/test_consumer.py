"""The WebSocket consumer in process: greeting, streams, delivery, resume and limits."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from episodes import services as episode_services
from realtime import outgoing
from realtime.consumers import RealtimeConsumer
from realtime.models import OutboxMark
from realtime.selectors import PRUNED_THROUGH
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def _frame(communicator: WebsocketCommunicator) -> dict:
    return json.loads(await communicator.receive_from(timeout=TIMEOUT))


async def _welcomed(user) -> tuple[WebsocketCommunicator, dict]:
    communicator = await _connect(user)
    return communicator, await _frame(communicator)


async def _send(communicator: WebsocketCommunicator, frame: dict) -> dict:
    await communicator.send_to(text_data=json.dumps(frame))
    return await _frame(communicator)


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def bo(transactional_db):
    return UserFactory(username="bo", roles=["viewers"])


@pytest.fixture
def episode(transactional_db):
    return EpisodeFactory(title="Pilot")


async def test_welcome_lists_the_automatic_streams(ana):
    communicator, welcome = await _welcomed(ana)
    assert welcome["type"] == "welcome"
    assert welcome["user"] == {"id": ana.pk, "username": "ana", "roles": ["editors"]}
    assert welcome["streams"] == [f"user:{ana.pk}", "role:editors", "broadcast"]
    assert isinstance(welcome["last_event_id"], int)
    await communicator.disconnect()


async def test_a_user_without_a_role_is_closed_with_4401(transactional_db):
    outsider = await database_sync_to_async(UserFactory)(username="olga")
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = outsider
    await communicator.connect(timeout=TIMEOUT)
    closed = await communicator.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_subscribe_to_an_episode_lists_its_viewers(ana, episode):
    communicator, _ = await _welcomed(ana)
    reply = await _send(communicator, {"type": "subscribe", "stream": f"episode:{episode.pk}"})
    assert reply["type"] == "subscribed"
    assert reply["stream"] == f"episode:{episode.pk}"
    assert [viewer["username"] for viewer in reply["viewers"]] == ["ana"]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        ("episode:987654", "not_found"),
        ("composition:987654", "not_found"),
        ("job:987654", "not_found"),
        ("nonsense", "not_found"),
        ("user:1", "forbidden"),
        ("role:admins", "forbidden"),
        ("broadcast", "forbidden"),
    ],
)
async def test_subscribe_refuses_what_does_not_exist_or_is_not_yours(ana, stream, code):
    communicator, _ = await _welcomed(ana)
    reply = await _send(communicator, {"type": "subscribe", "stream": stream})
    assert reply == {"type": "error", "code": code, "stream": stream}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"stream": "episodes"}',
        '{"type": 5}',
        '{"type": "dance"}',
        '{"type": "subscribe", "stream": 42}',
        '{"type": "resume", "last_event_id": "x"}',
        '{"type": "resume", "last_event_id": -1}',
        json.dumps({"type": "heartbeat", "pad": "x" * 70_000}),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(ana, text):
    communicator, _ = await _welcomed(ana)
    await communicator.send_to(text_data=text)
    error = await _frame(communicator)
    assert (error["type"], error["code"]) == ("error", "bad_request")
    assert error["detail"]
    assert await _send(communicator, {"type": "heartbeat"}) == {"type": "heartbeat_ack"}
    await communicator.disconnect()


async def test_a_binary_frame_is_a_bad_request(ana):
    communicator, _ = await _welcomed(ana)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await _frame(communicator))["code"] == "bad_request"
    await communicator.disconnect()


async def test_an_event_on_two_subscribed_streams_arrives_once(ana, bo, episode):
    communicator, _ = await _welcomed(bo)
    await _send(communicator, {"type": "subscribe", "stream": "episodes"})
    await _send(communicator, {"type": "subscribe", "stream": f"episode:{episode.pk}"})
    await communicator.receive_nothing(timeout=0.2)
    await database_sync_to_async(episode_services.episode_update)(
        episode=episode, actor=ana, title="New"
    )
    frames = []
    while not await communicator.receive_nothing(timeout=0.3):
        frames.append(await _frame(communicator))
    updates = [frame for frame in frames if frame.get("event") == "episode_updated"]
    assert len(updates) == 1
    assert updates[0]["data"]["changed_fields"] == ["title"]
    assert updates[0]["stream"] in ("episodes", f"episode:{episode.pk}")
    await communicator.disconnect()


async def test_resume_replays_missed_events_in_order_then_says_resumed(ana, bo, episode):
    communicator, welcome = await _welcomed(bo)
    await communicator.disconnect()
    for title in ("One", "Two", "Three"):
        await database_sync_to_async(episode_services.episode_update)(
            episode=episode, actor=ana, title=title
        )
    communicator, _ = await _welcomed(bo)
    await _send(communicator, {"type": "subscribe", "stream": "episodes"})
    await communicator.send_to(
        text_data=json.dumps({"type": "resume", "last_event_id": welcome["last_event_id"]})
    )
    frames = []
    while True:
        frame = await _frame(communicator)
        frames.append(frame)
        if frame["type"] == "resumed":
            break
    events = [frame for frame in frames if frame["type"] == "event"]
    titles = [e["data"]["episode"]["title"] for e in events if e["event"] == "episode_updated"]
    assert titles == ["One", "Two", "Three"]
    ids = [event["id"] for event in events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert frames[-1] == {"type": "resumed", "count": len(events)}
    await communicator.disconnect()


async def test_resume_past_retention_fails_with_too_old(ana):
    await database_sync_to_async(OutboxMark.objects.create)(name=PRUNED_THROUGH, position=50)
    communicator, _ = await _welcomed(ana)
    reply = await _send(communicator, {"type": "resume", "last_event_id": 10})
    assert reply == {"type": "resume_failed", "reason": "too_old"}
    await communicator.disconnect()


async def test_a_flood_is_refused_then_closed_with_4429(ana):
    communicator, _ = await _welcomed(ana)
    for _ in range(260):
        await communicator.send_to(text_data='{"type": "heartbeat"}')
    outputs = []
    for _ in range(400):
        output = await communicator.receive_output(timeout=TIMEOUT)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    frames = [json.loads(o["text"]) for o in outputs if o["type"] == "websocket.send"]
    assert any(frame.get("code") == "rate_limited" for frame in frames)
    assert outputs[-1] == {"type": "websocket.close", "code": 4429}
    await communicator.disconnect()


async def test_a_client_that_stops_reading_is_closed_with_4408(ana, monkeypatch):
    monkeypatch.setattr(outgoing, "SEND_QUEUE_CAP", 20)
    reading = asyncio.Event()
    reading.set()
    write = RealtimeConsumer._write

    async def write_while_reading(self, text: str) -> None:
        await reading.wait()
        await write(self, text)

    monkeypatch.setattr(RealtimeConsumer, "_write", write_while_reading)
    communicator, _ = await _welcomed(ana)
    reading.clear()
    layer = get_channel_layer()
    for event_id in range(1, 60):
        await layer.group_send(
            f"stream.user.{ana.pk}",
            {"type": "realtime.event", "id": event_id, "stream": "x", "text": "{}"},
        )
        await asyncio.sleep(0.001)
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": 4408}
    await communicator.disconnect()
