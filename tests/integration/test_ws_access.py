"""Who gets a socket on a real server, which streams it may join, and a flood being closed."""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jobs import services as job_services
from tests.factories import DEFAULT_PASSWORD, CompositionFactory, EpisodeFactory
from tests.live_server import (
    WAIT,
    Api,
    LiveServer,
    api_token,
    open_socket,
    set_server_password,
)

pytestmark = pytest.mark.django_db(transaction=True)

MISSING_ID = 987654321


@pytest.fixture
def ana_api(server, ana) -> Api:
    return Api(server, api_token(ana))


async def _ticket(api: Api) -> str:
    reply = await api.post("/api/v1/realtime/ticket/")
    assert reply.status == 201
    return reply.body["ticket"]


async def _closed_code(server: LiveServer, ticket: str) -> int:
    async with open_socket(server, ticket=ticket, welcome=False) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
    return closed.value.rcvd.code


# --- Authentication -----------------------------------------------------------------------


async def test_a_session_socket_from_an_allowed_origin_is_welcomed(server, ana, ana_cookie):
    async with open_socket(server, cookie=ana_cookie, origin=server.url) as ws:
        assert ws.welcome["user"] == {"id": ana.pk, "username": "ana", "roles": ["editors"]}
        assert ws.welcome["streams"] == [f"user:{ana.pk}", "role:editors", "broadcast"]
        assert isinstance(ws.welcome["last_event_id"], int)


async def test_a_session_socket_from_a_foreign_origin_is_refused_before_accept(server, ana_cookie):
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(server, cookie=ana_cookie, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


@pytest.fixture
def ana_with_password(ana):
    set_server_password(ana, DEFAULT_PASSWORD)
    return ana


async def test_a_ticket_from_the_token_login_opens_a_socket(server, ana_with_password):
    login = await Api(server).post(
        "/api/v1/auth/token/", {"username": "ana", "password": DEFAULT_PASSWORD}
    )
    assert login.status == 200
    issued = await Api(server, login.body["token"]).post("/api/v1/realtime/ticket/")
    assert issued.status == 201
    assert issued.body["expires_in"] == 60
    async with open_socket(server, ticket=issued.body["ticket"]) as ws:
        assert ws.welcome["user"]["username"] == "ana"
        assert (await ws.reply({"type": "heartbeat"}, "heartbeat_ack")) == {"type": "heartbeat_ack"}


async def test_a_ticket_socket_is_not_bound_to_an_origin(server, ana_api):
    ticket = await _ticket(ana_api)
    async with open_socket(server, ticket=ticket, origin="http://elsewhere.example") as ws:
        assert ws.welcome["user"]["username"] == "ana"


async def test_a_used_ticket_is_closed_with_4401(server, ana_api):
    ticket = await _ticket(ana_api)
    async with open_socket(server, ticket=ticket) as ws:
        assert ws.welcome["type"] == "welcome"
    assert await _closed_code(server, ticket) == 4401


async def test_an_unknown_ticket_is_closed_with_4401(server, ana):
    assert await _closed_code(server, "no-such-ticket") == 4401


@pytest.mark.redis
async def test_an_expired_ticket_is_closed_with_4401(server, ana_api):
    from django.core.cache import cache

    from realtime import tickets

    ticket = await _ticket(ana_api)
    # The server's cache is this Redis: shorten the ticket's 60 s to 1 s and let it run out.
    key = tickets._key(ticket)
    assert cache.touch(key, 1)
    deadline = time.monotonic() + WAIT
    while cache.get(key) is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert cache.get(key) is None
    assert await _closed_code(server, ticket) == 4401


# --- Which streams a socket may join --------------------------------------------------------


@pytest.fixture
def resources(ana) -> dict[str, int]:
    episode = EpisodeFactory(title="Pilot")
    composition = CompositionFactory(episode=episode, name="Opening")
    job = job_services.job_enqueue(type="media_probe", actor=ana, episode=episode)
    return {"episode": episode.pk, "composition": composition.pk, "job": job.pk}


@pytest.mark.parametrize("stream", ["episodes", "activity"])
async def test_a_collection_stream_is_subscribed(server, ana_cookie, stream):
    async with open_socket(server, cookie=ana_cookie) as ws:
        assert await ws.subscribe(stream) == {"type": "subscribed", "stream": stream}


async def test_an_episode_stream_is_subscribed_with_its_viewers(server, ana, ana_cookie, resources):
    stream = f"episode:{resources['episode']}"
    async with open_socket(server, cookie=ana_cookie) as ws:
        reply = await ws.subscribe(stream)
    assert (reply["type"], reply["stream"]) == ("subscribed", stream)
    assert [(v["user_id"], v["username"]) for v in reply["viewers"]] == [(ana.pk, "ana")]


async def test_a_composition_stream_is_subscribed_with_its_viewers(
    server, ana, ana_cookie, resources
):
    stream = f"composition:{resources['composition']}"
    async with open_socket(server, cookie=ana_cookie) as ws:
        reply = await ws.subscribe(stream)
    assert (reply["type"], reply["stream"]) == ("subscribed", stream)
    assert [v["user_id"] for v in reply["viewers"]] == [ana.pk]


async def test_a_job_stream_is_subscribed(server, ana_cookie, resources):
    stream = f"job:{resources['job']}"
    async with open_socket(server, cookie=ana_cookie) as ws:
        reply = await ws.subscribe(stream)
    assert {key: reply[key] for key in ("type", "stream", "viewers")} == {
        "type": "subscribed",
        "stream": stream,
        "viewers": [],
    }
    assert (reply["job"]["id"], reply["job"]["status"]) == (resources["job"], "queued")


@pytest.mark.parametrize("kind", ["episode", "composition", "job"])
async def test_a_missing_resource_stream_is_not_found(server, ana_cookie, kind):
    stream = f"{kind}:{MISSING_ID}"
    async with open_socket(server, cookie=ana_cookie) as ws:
        reply = await ws.subscribe(stream)
    assert reply == {"type": "error", "code": "not_found", "stream": stream}


@pytest.mark.parametrize("stream", ["user:other", "role:admins", "broadcast"])
async def test_another_users_a_role_or_the_broadcast_stream_is_forbidden(
    server, ana_cookie, bo, stream
):
    stream = stream.replace("other", str(bo.pk))
    async with open_socket(server, cookie=ana_cookie) as ws:
        reply = await ws.subscribe(stream)
    assert reply == {"type": "error", "code": "forbidden", "stream": stream}


# --- Limits -----------------------------------------------------------------------------------


async def test_a_flooding_client_gets_rate_limited_then_closed_with_4429(server, ana_cookie):
    async with open_socket(server, cookie=ana_cookie) as ws:
        try:
            for _ in range(300):
                await ws.connection.send('{"type": "heartbeat"}')
        except ConnectionClosed:
            pass
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(1000):
                await ws.receive()
    assert closed.value.rcvd.code == 4429
    errors = [frame for frame in ws.frames if frame["type"] == "error"]
    assert errors
    assert {frame["code"] for frame in errors} == {"rate_limited"}
