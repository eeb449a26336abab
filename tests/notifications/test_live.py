"""Notifications through a real server process and real sockets: presence, mutes and
preferences, and folding, as a client sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from episodes.models import EpisodeSubscription
from tests.factories import EpisodeFactory, UserFactory
from tests.live_server import Api, LiveServer, Socket, api_token, open_socket, run_server
from tests.live_server import session_cookie as cookie_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[LiveServer]:
    with run_server() as live:
        yield live


@pytest.fixture
def cast(transactional_db, server):
    """ana edits; bo follows two episodes and reads; both have API clients."""
    ana = UserFactory(username="ana", roles=["editors"])
    bo = UserFactory(username="bo", roles=["viewers"])
    pilot = EpisodeFactory(title="Pilot", season=1, episode_number=1)
    second = EpisodeFactory(title="Second", season=1, episode_number=2)
    for episode in (pilot, second):
        EpisodeSubscription.objects.create(episode=episode, user=bo)
    return {
        "bo": bo,
        "pilot": pilot,
        "second": second,
        "ana_api": Api(server, api_token(ana)),
        "bo_api": Api(server, api_token(bo)),
        "bo_cookie": cookie_of(bo),
    }


async def patch(api: Api, episode, title: str) -> None:
    reply = await api.patch(f"/api/v1/episodes/{episode.pk}/", {"title": title})
    assert reply.status == 200, reply.body


async def put(api: Api, path: str, body=None):
    return await asyncio.to_thread(api.call, "PUT", path, body)


def notification_frames(ws: Socket) -> list[dict]:
    return [
        frame
        for frame in ws.frames
        if frame["type"] == "event"
        and frame["event"] in ("notification_created", "notification_updated")
    ]


async def test_a_viewer_with_the_episode_open_gets_the_event_but_no_notification(server, cast):
    async with open_socket(server, cookie=cast["bo_cookie"]) as ws:
        await ws.subscribe(f"episode:{cast['pilot'].pk}")
        await patch(cast["ana_api"], cast["pilot"], "Renamed")
        await ws.event("episode_updated", changed_fields=["title"])
        # A notification of the same user stream after it: anything before it has arrived.
        await patch(cast["ana_api"], cast["second"], "Also renamed")
        barrier = await ws.event("notification_created")
        listed = await cast["bo_api"].get("/api/v1/notifications/")
    assert barrier["data"]["notification"]["message"] == "Also renamed updated by ana"
    assert notification_frames(ws) == [barrier]
    assert [row["data"]["episode_id"] for row in listed.body["results"]] == [cast["second"].pk]


async def test_five_updates_fold_into_one_notification_with_a_count_of_five(server, cast):
    async with open_socket(server, cookie=cast["bo_cookie"]) as ws:
        for n in range(5):
            await patch(cast["ana_api"], cast["pilot"], f"Take {n}")
        last = await ws.event("notification_updated", unread_count=1)
        while last["data"]["notification"]["data"]["count"] < 5:
            last = await ws.event("notification_updated")
        listed = await cast["bo_api"].get("/api/v1/notifications/")
    frames = notification_frames(ws)
    assert [frame["event"] for frame in frames] == ["notification_created"] + [
        "notification_updated"
    ] * 4
    assert [frame["data"]["notification"]["data"]["count"] for frame in frames] == [1, 2, 3, 4, 5]
    assert {frame["data"]["notification"]["id"] for frame in frames} == {
        frames[0]["data"]["notification"]["id"]
    }
    assert last["stream"] == f"user:{cast['bo'].pk}"
    [only] = listed.body["results"]
    assert only == last["data"]["notification"]
    assert only["message"] == "Take 4 updated by ana"
    assert only["data"]["last_actor"]["username"] == "ana"


async def test_a_muted_episode_and_a_type_turned_off_send_nothing(server, cast):
    bo_api = cast["bo_api"]
    muted = await put(bo_api, f"/api/v1/episodes/{cast['pilot'].pk}/mute/")
    assert (muted.status, muted.body) == (200, {"episode": cast["pilot"].pk, "muted": True})
    prefs = await put(
        bo_api,
        "/api/v1/notifications/preferences/",
        {"types": {"episode_published": False}, "muted_episodes": [cast["pilot"].pk]},
    )
    assert prefs.status == 200
    async with open_socket(server, cookie=cast["bo_cookie"]) as ws:
        await patch(cast["ana_api"], cast["pilot"], "Muted")
        published = await cast["ana_api"].post(f"/api/v1/episodes/{cast['second'].pk}/publish/")
        assert published.status == 200
        await patch(cast["ana_api"], cast["second"], "Heard")
        barrier = await ws.event("notification_created")
        count = await bo_api.get("/api/v1/notifications/unread-count/")
    assert barrier["data"]["notification"]["type"] == "episode_updated"
    assert barrier["data"]["notification"]["data"]["episode_id"] == cast["second"].pk
    assert notification_frames(ws) == [barrier]
    assert count.body == {"count": 1}
