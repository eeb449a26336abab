"""Who may subscribe to which stream, on the socket: each role, a second user of the same
role, a user without a role and an anonymous client; streams of deleted or missing rows,
another user's stream, role streams. Then the same sample on a real socket to a server
process. The table is checked against the stream kinds the code knows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from websockets.exceptions import ConnectionClosed

from config.asgi import application
from episodes import services as episodes
from realtime import stream_access, streams, tickets
from tests.live_server import open_socket, session_cookie
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
MISSING = 2**40
MEMBERS = ["viewer", "viewer2", "editor", "admin"]

# Stream (with the world's names in braces) → the reply every member gets.
STREAMS = {
    "episodes": "subscribed",
    "activity": "subscribed",
    "episode:{draft}": "subscribed",
    "composition:{composition}": "subscribed",
    "job:{failed_job}": "subscribed",
    # A deleted episode's stream, and one that never existed: the same answer.
    "episode:{deleted}": "not_found",
    f"episode:{MISSING}": "not_found",
    f"composition:{MISSING}": "not_found",
    f"job:{MISSING}": "not_found",
    # Joined automatically where they are one's own, never by asking: not even one's own.
    "user:{self}": "forbidden",
    "user:{other}": "forbidden",
    "role:admins": "forbidden",
    "role:editors": "forbidden",
    "role:viewers": "forbidden",
    "broadcast": "forbidden",
}


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    made = build_world()
    gone = episodes.episode_create(
        actor=made.users["editor"], title="Gone", episode_number=50, season=1
    )
    episodes.episode_delete(episode=gone, actor=made.users["editor"])
    made.named["deleted"] = gone.pk
    return made


def stream_name(template: str, caller: str, world: World) -> str:
    other = "viewer" if caller != "viewer" else "editor"
    names = {**world.named, "self": world.users[caller].pk, "other": world.users[other].pk}
    return template.format(**names)


async def open_ticket_socket(user: Any) -> WebsocketCommunicator:
    ticket = await database_sync_to_async(tickets.ticket_issue)(user=user)
    socket = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
    await socket.connect(timeout=TIMEOUT)
    return socket


async def receive(socket: WebsocketCommunicator, *types: str) -> dict[str, Any]:
    """The next frame of one of `types` (events on the way are skipped)."""
    while True:
        frame = json.loads(await socket.receive_from(timeout=TIMEOUT))
        if frame["type"] in types:
            return frame


async def reply_to(socket: WebsocketCommunicator, stream: str) -> str:
    await socket.send_to(text_data=json.dumps({"type": "subscribe", "stream": stream}))
    frame = await receive(socket, "subscribed", "error")
    assert frame["stream"] == stream
    return frame["type"] if frame["type"] == "subscribed" else frame["code"]


@pytest.mark.parametrize("caller", MEMBERS)
async def test_a_member_subscribes_to_what_exists_and_is_not_automatic(world, caller):
    socket = await open_ticket_socket(world.users[caller])
    await receive(socket, "welcome")
    got = {
        template: await reply_to(socket, stream_name(template, caller, world))
        for template in STREAMS
    }
    await socket.disconnect()
    assert got == STREAMS


@pytest.mark.parametrize("caller", ["anon", "norole"])
async def test_a_caller_without_a_role_is_closed_before_any_subscription(world, caller):
    if caller == "anon":
        socket = WebsocketCommunicator(
            application, "/ws/", headers=[(b"origin", b"http://127.0.0.1:8000")]
        )
        await socket.connect(timeout=TIMEOUT)
    else:
        socket = await open_ticket_socket(world.users["norole"])
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}


def test_every_stream_kind_has_a_row():
    kinds = {stream.split(":")[0] for stream in STREAMS}
    known = (
        streams.RESOURCE_TYPES
        | stream_access.SUBSCRIBABLE_COLLECTIONS
        | stream_access.AUTOMATIC_KINDS
    )
    assert kinds == known


async def test_a_deleted_episodes_stream_tells_its_subscribers_then_refuses_them(world):
    socket = await open_ticket_socket(world.users["viewer"])
    await receive(socket, "welcome")
    stream = f"episode:{world.named['draft']}"
    assert await reply_to(socket, stream) == "subscribed"
    await database_sync_to_async(_delete_draft)(world)
    deleted = await receive(socket, "event")
    while deleted["event"] != "episode_deleted":  # viewer_joined: itself, on subscribing
        deleted = await receive(socket, "event")
    assert deleted["stream"] == stream
    assert await reply_to(socket, stream) == "not_found"
    await socket.disconnect()


def _delete_draft(world: World) -> None:
    from episodes.models import Episode

    draft = Episode.objects.get(pk=world.named["draft"])
    episodes.episode_delete(episode=draft, actor=world.users["editor"])


async def test_resume_replays_nobody_elses_private_events(world):
    """viewer2 catches up from 0: nothing addressed to another user, nor to a role it lacks."""
    socket = await open_ticket_socket(world.users["viewer2"])
    welcome = await receive(socket, "welcome")
    assert welcome["last_event_id"] > 0
    await socket.send_to(text_data=json.dumps({"type": "resume", "last_event_id": 0}))
    frames = []
    while (frame := json.loads(await socket.receive_from(timeout=TIMEOUT)))["type"] != "resumed":
        frames.append(frame)
    await socket.disconnect()
    mine = set(welcome["streams"])
    private = [
        f for f in frames if f["stream"].startswith(("user:", "role:")) and f["stream"] not in mine
    ]
    assert frames
    assert private == []


def test_missed_events_over_rest_hold_nobody_elses_private_events(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['viewer2']}")
    events = client.get("/api/v1/events/?since=0").json()["events"]
    own = {f"user:{world.users['viewer2'].pk}", "role:viewers"}
    assert events
    assert [
        e for e in events if e["stream"].startswith(("user:", "role:")) and e["stream"] not in own
    ] == []


# --- the same on a real socket, to a server process ---------------------------------------

REAL_SAMPLE = {
    "episodes": "subscribed",
    "episode:{deleted}": "not_found",
    "user:{other}": "forbidden",
    "role:admins": "forbidden",
}


async def test_a_real_socket_gets_the_same_answers(world, live_server_process):
    viewer = await database_sync_to_async(session_cookie)(world.users["viewer"])
    async with open_socket(live_server_process, cookie=viewer) as socket:
        got = {}
        for template in REAL_SAMPLE:
            reply = await socket.subscribe(stream_name(template, "viewer", world))
            got[template] = reply["type"] if reply["type"] == "subscribed" else reply["code"]
    assert got == REAL_SAMPLE

    norole = await database_sync_to_async(session_cookie)(world.users["norole"])
    with pytest.raises(ConnectionClosed) as closed:
        async with open_socket(live_server_process, cookie=norole, welcome=False) as socket:
            await socket.receive()
    assert closed.value.rcvd.code == 4401
