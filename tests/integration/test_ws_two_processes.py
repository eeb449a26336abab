"""Two server processes on one Redis: events and presence cross from one to the other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import Api, LiveServer, open_socket, run_servers

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def servers(django_db_setup) -> Iterator[list[LiveServer]]:
    with run_servers(2) as started:
        yield started


@pytest.fixture
def one(servers) -> LiveServer:
    return servers[0]


@pytest.fixture
def two(servers) -> LiveServer:
    return servers[1]


def _ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


async def test_a_change_through_one_process_reaches_a_socket_on_the_other(
    one, two, ana, ana_token, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(two, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        reply = await Api(one, ana_token).patch(f"/api/v1/episodes/{episode.pk}/", {"title": "X"})
        assert reply.status == 200
        event = await ws.event("episode_updated")
    assert event["stream"] == stream
    assert event["data"]["episode"]["title"] == "X"
    assert event["data"]["actor"] == _ref(ana)


async def test_a_viewer_on_one_process_is_listed_by_the_others_presence(
    one, two, ana, ana_cookie, bo_token, episode
):
    async with open_socket(one, cookie=ana_cookie) as ws:
        await ws.subscribe(f"episode:{episode.pk}")
        reply = await Api(two, bo_token).get(f"/api/v1/presence/episode/{episode.pk}/")
    assert reply.status == 200
    assert [(v["user_id"], v["username"]) for v in reply.body["viewers"]] == [(ana.pk, "ana")]


async def test_a_viewer_on_one_process_is_in_a_subscribed_reply_on_the_other(
    one, two, ana, ana_cookie, bo, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(one, cookie=ana_cookie) as ana_ws:
        await ana_ws.subscribe(stream)
        async with open_socket(two, cookie=bo_cookie) as bo_ws:
            reply = await bo_ws.subscribe(stream)
    assert reply["type"] == "subscribed"
    assert [viewer["user_id"] for viewer in reply["viewers"]] == [ana.pk, bo.pk]


async def test_a_viewer_joining_on_one_process_is_announced_on_the_other(
    one, two, ana, ana_cookie, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(two, cookie=bo_cookie) as watcher:
        await watcher.subscribe(stream)
        async with open_socket(one, cookie=ana_cookie) as ana_ws:
            await ana_ws.subscribe(stream)
            joined = await watcher.event("viewer_joined", user=_ref(ana))
        left = await watcher.event("viewer_left", user=_ref(ana))
    assert joined["stream"] == left["stream"] == stream
