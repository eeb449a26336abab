"""The consumer in process: presence frames, `viewer_updated`, `revision_saved` for the other
editors only, and the state of a job answered to a late `job:<id>` subscriber."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from episodes import services as episode_services
from jobs import services as job_services
from jobs.models import Job
from realtime.consumers import RealtimeConsumer
from tests.factories import CompositionFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3
QUIET = 0.3


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await _frame(communicator))["type"] == "welcome"
    return communicator


async def _frame(communicator: WebsocketCommunicator) -> dict:
    return json.loads(await communicator.receive_from(timeout=TIMEOUT))


async def _send(communicator: WebsocketCommunicator, frame: dict) -> dict:
    await communicator.send_to(text_data=json.dumps(frame))
    return await _frame(communicator)


async def _reply(communicator: WebsocketCommunicator, frame: dict, kind: str) -> dict:
    """Send a frame; the next frame of type `kind` (events may arrive before it)."""
    await communicator.send_to(text_data=json.dumps(frame))
    for _ in range(20):
        got = await _frame(communicator)
        if got["type"] in (kind, "error"):
            return got
    raise AssertionError(f"no {kind} frame")


async def _drain(communicator: WebsocketCommunicator) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=QUIET):
        frames.append(await _frame(communicator))
    return frames


def _events(frames: list[dict], name: str) -> list[dict]:
    return [f for f in frames if f["type"] == "event" and f["event"] == name]


async def _subscribed(user, stream: str) -> WebsocketCommunicator:
    communicator = await _connect(user)
    reply = await _reply(communicator, {"type": "subscribe", "stream": stream}, "subscribed")
    assert reply["type"] == "subscribed"
    return communicator


async def _editing(user, stream: str) -> WebsocketCommunicator:
    communicator = await _subscribed(user, stream)
    frame = {"type": "presence", "stream": stream, "state": "editing"}
    assert (await _reply(communicator, frame, "presence_ack"))["type"] == "presence_ack"
    return communicator


# --- the presence frame -------------------------------------------------------------------


async def test_presence_on_a_stream_not_subscribed_is_refused(ana, episode):
    communicator = await _connect(ana)
    stream = f"episode:{episode.pk}"
    reply = await _send(communicator, {"type": "presence", "stream": stream, "state": "editing"})
    assert reply == {
        "type": "error",
        "code": "not_subscribed",
        "detail": "Subscribe to the stream first.",
        "stream": stream,
    }
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "presence", "state": "editing"},
        {"type": "presence", "stream": 42, "state": "editing"},
        {"type": "presence", "stream": "episode:1", "state": "typing"},
        {"type": "presence", "stream": "episode:1"},
        {"type": "presence", "stream": "episodes", "state": "editing"},
    ],
)
async def test_a_malformed_presence_frame_is_a_bad_request(ana, frame):
    communicator = await _connect(ana)
    reply = await _send(communicator, frame)
    assert (reply["type"], reply["code"]) == ("error", "bad_request")
    assert await _send(communicator, {"type": "heartbeat"}) == {"type": "heartbeat_ack"}
    await communicator.disconnect()


async def test_presence_on_a_job_stream_is_a_bad_request(ana, episode):
    job = await database_sync_to_async(Job.objects.create)(type="search_index", episode=episode)
    communicator = await _subscribed(ana, f"job:{job.pk}")
    frame = {"type": "presence", "stream": f"job:{job.pk}", "state": "editing"}
    reply = await _send(communicator, frame)
    assert (reply["code"], reply["stream"]) == ("bad_request", f"job:{job.pk}")
    await communicator.disconnect()


async def test_editing_is_acknowledged_with_the_viewers_and_their_states(ana, bo, episode):
    stream = f"episode:{episode.pk}"
    watcher = await _subscribed(bo, stream)
    editor = await _subscribed(ana, stream)

    ack = await _reply(
        editor, {"type": "presence", "stream": stream, "state": "editing"}, "presence_ack"
    )

    assert ack["stream"] == stream and ack["state"] == "editing"
    assert [(v["username"], v["state"]) for v in ack["viewers"]] == [
        ("bo", "viewing"),
        ("ana", "editing"),
    ]
    updated = _events(await _drain(watcher), "viewer_updated")
    assert len(updated) == 1
    assert updated[0]["stream"] == stream
    assert updated[0]["data"]["user"] == {"id": ana.pk, "username": "ana"}
    assert updated[0]["data"]["state"] == "editing"
    assert {v["username"]: v["state"] for v in updated[0]["data"]["viewers"]} == {
        "bo": "viewing",
        "ana": "editing",
    }
    for communicator in (watcher, editor):
        await communicator.disconnect()


async def test_a_second_tab_editing_sends_no_viewer_updated(ana, bo, episode):
    stream = f"episode:{episode.pk}"
    watcher = await _subscribed(bo, stream)
    first = await _editing(ana, stream)
    await _drain(watcher)

    await _editing(ana, stream)

    assert _events(await _drain(watcher), "viewer_updated") == []
    await first.disconnect()
    await watcher.disconnect()


async def test_closing_the_last_editing_tab_of_a_staying_user_sends_viewing(ana, bo, episode):
    stream = f"episode:{episode.pk}"
    watcher = await _subscribed(bo, stream)
    viewing_tab = await _subscribed(ana, stream)
    editing_tab = await _editing(ana, stream)
    await _drain(watcher)

    await editing_tab.disconnect()

    frames = await _drain(watcher)
    updated = _events(frames, "viewer_updated")
    assert [(u["data"]["user"]["id"], u["data"]["state"]) for u in updated] == [(ana.pk, "viewing")]
    assert _events(frames, "viewer_left") == []
    await viewing_tab.disconnect()
    await watcher.disconnect()


async def test_a_composition_stream_has_editing_presence_too(ana, bo, episode):
    cut = await database_sync_to_async(CompositionFactory)(episode=episode)
    stream = f"composition:{cut.pk}"
    watcher = await _subscribed(bo, stream)
    editor = await _editing(ana, stream)
    updated = _events(await _drain(watcher), "viewer_updated")
    assert [u["data"]["state"] for u in updated] == ["editing"]
    await editor.disconnect()
    await watcher.disconnect()


# --- revision_saved -----------------------------------------------------------------------


async def test_a_save_tells_the_other_editors_only(ana, bo, cy, episode):
    stream = f"episode:{episode.pk}"
    saver_tab = await _editing(ana, stream)
    other_editor = await _editing(cy, stream)
    watcher = await _subscribed(bo, stream)
    for communicator in (saver_tab, other_editor, watcher):
        await _drain(communicator)

    await database_sync_to_async(episode_services.episode_update)(
        episode=episode, actor=ana, title="Saved by ana"
    )

    got = {
        name: await _drain(c)
        for name, c in (("saver", saver_tab), ("other", other_editor), ("watcher", watcher))
    }
    [saved] = _events(got["other"], "revision_saved")
    assert saved["stream"] == f"editing:episode:{episode.pk}"
    assert saved["data"] == {
        "actor": {"id": ana.pk, "username": "ana"},
        "version": 2,
        "resource_type": "episode",
        "resource_id": episode.pk,
    }
    assert _events(got["saver"], "revision_saved") == []
    assert _events(got["watcher"], "revision_saved") == []
    assert [len(_events(frames, "episode_updated")) for frames in got.values()] == [1, 1, 1]
    for communicator in (saver_tab, other_editor, watcher):
        await communicator.disconnect()


async def test_an_editor_back_to_viewing_is_no_longer_told(ana, cy, episode):
    stream = f"episode:{episode.pk}"
    other = await _editing(cy, stream)
    await _reply(other, {"type": "presence", "stream": stream, "state": "viewing"}, "presence_ack")
    await _drain(other)

    await database_sync_to_async(episode_services.episode_update)(
        episode=episode, actor=ana, title="Saved by ana"
    )

    frames = await _drain(other)
    assert _events(frames, "revision_saved") == []
    assert len(_events(frames, "episode_updated")) == 1
    await other.disconnect()


async def test_a_composition_save_tells_its_editors(ana, cy, episode):
    cut = await database_sync_to_async(CompositionFactory)(episode=episode)
    other = await _editing(cy, f"composition:{cut.pk}")
    await _drain(other)

    await database_sync_to_async(episode_services.composition_update)(
        composition=cut, actor=ana, name="Renamed"
    )

    [saved] = _events(await _drain(other), "revision_saved")
    assert saved["data"]["resource_type"] == "composition"
    assert (saved["data"]["resource_id"], saved["data"]["version"]) == (cut.pk, 2)
    await other.disconnect()


# --- a late job subscriber ------------------------------------------------------------------


def _retrying_job(episode) -> Job:
    job = Job.objects.create(type="search_index", episode=episode, max_attempts=3)
    claimed = job_services.job_claim(job=job).job
    return job_services.job_fail(
        job=claimed, error="storage timed out", retryable=True, retry_in=30
    )


async def test_subscribing_to_a_job_answers_with_its_current_state(ana, episode):
    job = await database_sync_to_async(_retrying_job)(episode)
    communicator = await _connect(ana)

    reply = await _reply(
        communicator, {"type": "subscribe", "stream": f"job:{job.pk}"}, "subscribed"
    )

    snapshot = reply["job"]
    assert (snapshot["id"], snapshot["status"], snapshot["error"]) == (
        job.pk,
        "retrying",
        "storage timed out",
    )
    assert (snapshot["attempts"], snapshot["max_attempts"], snapshot["progress"]) == (1, 3, 0)
    due = datetime.fromisoformat(snapshot["next_retry_at"].replace("Z", "+00:00"))
    assert due == job.next_retry_at
    await communicator.disconnect()


async def test_a_job_that_is_not_retrying_has_no_next_retry_time(ana, episode):
    job = await database_sync_to_async(Job.objects.create)(type="search_index", episode=episode)
    communicator = await _connect(ana)
    reply = await _reply(
        communicator, {"type": "subscribe", "stream": f"job:{job.pk}"}, "subscribed"
    )
    assert (reply["job"]["status"], reply["job"]["next_retry_at"]) == ("queued", None)
    await communicator.disconnect()


async def test_an_episode_subscription_has_no_job_state(ana, episode):
    communicator = await _connect(ana)
    stream = f"episode:{episode.pk}"
    reply = await _reply(communicator, {"type": "subscribe", "stream": stream}, "subscribed")
    assert "job" not in reply
    await communicator.disconnect()
