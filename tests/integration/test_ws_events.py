"""Each live event of the contract, caused through a real server's REST API, on a real socket."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from jobs import services as job_services
from tests.factories import CompositionFactory, EpisodeFactory, UserFactory
from tests.live_server import Api, api_token, open_socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ana_api(server, ana) -> Api:
    return Api(server, api_token(ana))


@pytest.fixture
def bo_api(server, bo) -> Api:
    return Api(server, api_token(bo))


@pytest.fixture
def ada_cookie(transactional_db) -> str:
    return session_cookie(UserFactory(username="ada", roles=["admins"]))


@pytest.fixture
def episode(transactional_db):
    return EpisodeFactory(title="Pilot", season=1, episode_number=1)


@pytest.fixture
def composition(episode):
    return CompositionFactory(episode=episode, name="Opening", layout={"tracks": [1]})


def _actor(user) -> dict:
    return {"id": user.pk, "username": user.username}


def _episode_path(episode) -> str:
    return f"/api/v1/episodes/{episode.pk}/"


# --- Episodes ----------------------------------------------------------------------------------


async def test_episode_created_reaches_a_socket_on_episodes(server, ana, ana_api, bo_cookie):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe("episodes")
        created = await ana_api.post(
            "/api/v1/episodes/", {"title": "Fresh", "episode_number": 7, "season": 2}
        )
        assert created.status == 201
        event = await ws.event("episode_created")
    assert event["stream"] in ("episodes", "broadcast")
    assert event["data"]["episode"]["id"] == created.body["id"]
    assert event["data"]["episode"]["title"] == "Fresh"
    assert event["data"]["actor"] == _actor(ana)


async def test_episode_updated_carries_the_changed_fields(server, ana, ana_api, bo_cookie, episode):
    stream = f"episode:{episode.pk}"
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        assert (await ana_api.patch(_episode_path(episode), {"title": "Renamed"})).status == 200
        event = await ws.event("episode_updated")
    assert event["stream"] == stream
    assert event["id"] > ws.welcome["last_event_id"]
    assert event["timestamp"].endswith("Z")
    assert event["data"]["changed_fields"] == ["title"]
    assert event["data"]["episode"]["title"] == "Renamed"
    assert event["data"]["actor"] == _actor(ana)


async def test_episode_published_reaches_the_episode_stream(
    server, ana, ana_api, bo_cookie, episode
):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(f"episode:{episode.pk}")
        assert (await ana_api.post(f"{_episode_path(episode)}publish/")).status == 200
        event = await ws.event("episode_published")
    assert event["stream"] in (f"episode:{episode.pk}", "broadcast")
    assert event["data"]["episode"]["status"] == "published"
    assert event["data"]["actor"] == _actor(ana)


async def test_episode_archived_reaches_the_episode_stream(
    server, ana, ana_api, bo_cookie, episode
):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(f"episode:{episode.pk}")
        assert (await ana_api.post(f"{_episode_path(episode)}archive/")).status == 200
        event = await ws.event("episode_archived")
    assert event["stream"] in (f"episode:{episode.pk}", "broadcast")
    assert event["data"]["episode"]["status"] == "archived"
    assert event["data"]["actor"] == _actor(ana)


async def test_episode_deleted_names_the_episode_gone(server, ana, ana_api, bo_cookie, episode):
    stream = f"episode:{episode.pk}"
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        assert (await ana_api.delete(_episode_path(episode))).status == 204
        event = await ws.event("episode_deleted")
    assert event["stream"] == stream
    assert event["data"] == {"episode_id": episode.pk, "title": "Pilot", "actor": _actor(ana)}


# --- Compositions ------------------------------------------------------------------------------


async def test_composition_created_reaches_its_episodes_stream(
    server, ana, ana_api, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        created = await ana_api.post(
            "/api/v1/compositions/", {"episode": episode.pk, "name": "Cold open", "layout": {}}
        )
        assert created.status == 201
        event = await ws.event("composition_created")
    assert event["stream"] == stream
    assert event["data"]["composition"]["id"] == created.body["id"]
    assert event["data"]["composition"]["name"] == "Cold open"
    assert event["data"]["actor"] == _actor(ana)


async def test_composition_updated_reaches_its_own_stream(
    server, ana, ana_api, bo_cookie, composition
):
    stream = f"composition:{composition.pk}"
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        path = f"/api/v1/compositions/{composition.pk}/"
        assert (await ana_api.patch(path, {"name": "Closing"})).status == 200
        event = await ws.event("composition_updated")
    assert event["stream"] == stream
    assert event["data"]["composition"]["name"] == "Closing"
    assert event["data"]["actor"] == _actor(ana)


async def test_composition_deleted_reaches_its_own_stream(
    server, ana, ana_api, bo_cookie, composition
):
    stream = f"composition:{composition.pk}"
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(stream)
        assert (await ana_api.delete(f"/api/v1/compositions/{composition.pk}/")).status == 204
        event = await ws.event("composition_deleted")
    assert event["stream"] == stream
    assert event["data"]["composition"]["id"] == composition.pk
    assert event["data"]["actor"] == _actor(ana)


# --- Notifications and activity ---------------------------------------------------------------


async def test_notification_created_reaches_the_users_own_stream(
    server, ana_api, bo, bo_cookie, episode
):
    async with open_socket(server, cookie=bo_cookie) as ws:
        assert (await ana_api.post(f"{_episode_path(episode)}publish/")).status == 200
        event = await ws.event("notification_created")
    assert event["stream"] == f"user:{bo.pk}"
    assert event["data"]["notification"]["type"] == "episode_published"
    assert event["data"]["notification"]["message"] == "Pilot published"
    assert event["data"]["notification"]["read_at"] is None
    assert event["data"]["unread_count"] == 1


async def test_notifications_read_reaches_the_users_own_stream(
    server, ana_api, bo, bo_api, bo_cookie, episode
):
    async with open_socket(server, cookie=bo_cookie) as ws:
        assert (await ana_api.post(f"{_episode_path(episode)}publish/")).status == 200
        created = await ws.event("notification_created")
        assert (await bo_api.post("/api/v1/notifications/read-all/")).status == 200
        event = await ws.event("notifications_read")
    assert event["stream"] == f"user:{bo.pk}"
    assert event["data"] == {"ids": [created["data"]["notification"]["id"]], "unread_count": 0}


async def test_activity_logged_reaches_the_activity_feed(server, ana, ana_api, bo_cookie, episode):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe("activity")
        assert (await ana_api.patch(_episode_path(episode), {"title": "Renamed"})).status == 200
        event = await ws.event("activity_logged")
    assert event["stream"] == "activity"
    activity = event["data"]["activity"]
    assert activity["action"] == "updated_episode"
    assert activity["resource_type"] == "episode"
    assert str(activity["resource_id"]) == str(episode.pk)
    assert activity["metadata"]["changed_fields"] == ["title"]
    assert activity["user"] == _actor(ana)


# --- Viewers -----------------------------------------------------------------------------------


async def test_viewer_joined_when_another_users_socket_subscribes(
    server, ana, ana_cookie, bo, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(server, cookie=bo_cookie) as watcher:
        await watcher.subscribe(stream)
        async with open_socket(server, cookie=ana_cookie) as ana_ws:
            await ana_ws.subscribe(stream)
            event = await watcher.event("viewer_joined", user=_actor(ana))
    assert event["stream"] == stream
    assert sorted(viewer["user_id"] for viewer in event["data"]["viewers"]) == sorted(
        [ana.pk, bo.pk]
    )


async def test_viewer_left_when_another_users_socket_unsubscribes(
    server, ana, ana_cookie, bo, bo_cookie, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(server, cookie=bo_cookie) as watcher:
        await watcher.subscribe(stream)
        async with open_socket(server, cookie=ana_cookie) as ana_ws:
            await ana_ws.subscribe(stream)
            await watcher.event("viewer_joined", user=_actor(ana))
            assert await ana_ws.unsubscribe(stream) == {"type": "unsubscribed", "stream": stream}
            event = await watcher.event("viewer_left", user=_actor(ana))
    assert event["stream"] == stream
    assert [viewer["user_id"] for viewer in event["data"]["viewers"]] == [bo.pk]


# --- Jobs: caused in this process, so they reach the server only through Redis ----------------


@pytest.mark.redis
async def test_a_jobs_progress_reaches_its_episode_and_job_streams(server, ana, bo_cookie, episode):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe(f"episode:{episode.pk}")
        job = await database_sync_to_async(job_services.job_enqueue)(
            type="media_probe", actor=ana, episode=episode
        )
        queued = await ws.event("job_queued", job_id=job.pk)
        await ws.subscribe(f"job:{job.pk}")
        job = await database_sync_to_async(job_services.job_start)(job=job)
        started = await ws.event("job_started", job_id=job.pk)
        await database_sync_to_async(job_services.job_report_progress)(job=job, progress=40)
        progress = await ws.event("job_progress", job_id=job.pk)
        await database_sync_to_async(job_services.job_complete)(job=job, result={"ok": True})
        completed = await ws.event("job_completed", job_id=job.pk)
    assert queued["stream"] == f"episode:{episode.pk}"
    assert queued["data"]["job_type"] == "media_probe"
    assert queued["data"]["progress"] == 0
    assert started["data"]["status"] == "running"
    assert progress["data"]["progress"] == 40
    assert completed["data"]["progress"] == 100
    assert completed["data"]["result"] == {"ok": True}
    ids = [queued["id"], started["id"], progress["id"], completed["id"]]
    assert ids == sorted(ids)
    assert len(ws.events("job_started")) == 1


@pytest.mark.redis
async def test_a_retried_then_failed_job_reaches_its_stream(server, ana, bo_cookie, episode):
    async with open_socket(server, cookie=bo_cookie) as ws:
        job = await database_sync_to_async(job_services.job_enqueue)(
            type="thumbnail", actor=ana, episode=episode
        )
        await ws.subscribe(f"job:{job.pk}")
        job = await database_sync_to_async(job_services.job_start)(job=job)
        await database_sync_to_async(job_services.job_fail)(
            job=job, error="storage timed out", retryable=True
        )
        retry = await ws.event("job_retry", job_id=job.pk)
        job = await database_sync_to_async(job_services.job_start)(job=job)
        await database_sync_to_async(job_services.job_fail)(
            job=job, error="not an image", retryable=False
        )
        failed = await ws.event("job_failed", job_id=job.pk)
    assert retry["stream"] == f"job:{job.pk}"
    assert (retry["data"]["attempt"], retry["data"]["error"]) == (1, "storage timed out")
    assert failed["data"]["status"] == "failed"
    assert (failed["data"]["attempt"], failed["data"]["error"]) == (2, "not an image")


@pytest.mark.redis
async def test_a_failed_job_reaches_admins_without_subscribing(server, ana, ada_cookie, episode):
    async with open_socket(server, cookie=ada_cookie) as ws:
        job = await database_sync_to_async(job_services.job_enqueue)(
            type="thumbnail", actor=ana, episode=episode
        )
        job = await database_sync_to_async(job_services.job_start)(job=job)
        await database_sync_to_async(job_services.job_fail)(
            job=job, error="not an image", retryable=False
        )
        failed = await ws.event("job_failed", job_id=job.pk)
    assert failed["stream"] == "role:admins"


# --- At most once, and resume ------------------------------------------------------------------


async def test_an_event_on_two_subscribed_streams_arrives_once(server, ana_api, bo_cookie, episode):
    async with open_socket(server, cookie=bo_cookie) as ws:
        await ws.subscribe("episodes")
        await ws.subscribe(f"episode:{episode.pk}")
        assert (await ana_api.patch(_episode_path(episode), {"title": "Once"})).status == 200
        # Events reach a socket in id order: once the next update is in, so is every copy.
        assert (await ana_api.patch(_episode_path(episode), {"title": "Next"})).status == 200
        await ws.until(
            lambda f: (
                f.get("event") == "episode_updated" and f["data"]["episode"]["title"] == "Next"
            )
        )
    titles = [event["data"]["episode"]["title"] for event in ws.events("episode_updated")]
    assert titles == ["Once", "Next"]


async def test_resume_replays_the_missed_events_in_order_once_then_says_resumed(
    server, ana_api, ana_cookie, bo, bo_cookie, episode
):
    async with open_socket(server, cookie=bo_cookie) as gone:
        last_seen = gone.welcome["last_event_id"]
    async with open_socket(server, cookie=ana_cookie) as witness:
        await witness.subscribe("episodes")
        path = _episode_path(episode)
        assert (await ana_api.patch(path, {"title": "One"})).status == 200
        assert (await ana_api.patch(path, {"title": "Two"})).status == 200
        assert (await ana_api.post(f"{path}publish/")).status == 200
        assert (await ana_api.patch(path, {"title": "Three"})).status == 200
        # Published (the relay runs in the server): a resume now finds every row numbered.
        await witness.until(
            lambda f: (
                f.get("event") == "episode_updated" and f["data"]["episode"]["title"] == "Three"
            )
        )
    async with open_socket(server, cookie=bo_cookie) as back:
        await back.subscribe("episodes")
        before = len(back.frames)
        resumed = await back.reply({"type": "resume", "last_event_id": last_seen}, "resumed")
        replayed = [frame for frame in back.frames[before:] if frame["type"] == "event"]
    ids = [event["id"] for event in replayed]
    assert ids == sorted(set(ids))
    assert all(event_id > last_seen for event_id in ids)
    titles = [e["data"]["episode"]["title"] for e in replayed if e["event"] == "episode_updated"]
    assert titles == ["One", "Two", "Three"]
    # Published reaches both `episodes` and the automatic `broadcast`: still once.
    assert [e["event"] for e in replayed].count("episode_published") == 1
    notified = [e for e in replayed if e["event"] == "notification_created"]
    assert [e["stream"] for e in notified] == [f"user:{bo.pk}"]
    assert resumed == {"type": "resumed", "count": len(replayed)}
