"""Job events on a real socket: a worker runs the job, the server (on Redis) pushes each state
to the clients subscribed to `job:<id>`. Each state path, and progress throttling."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.test import override_settings

from jobs import brokers, dispatch, services
from jobs.models import Job
from tests.factories import EpisodeFactory, UserFactory
from tests.jobs import fixtures
from tests.jobs.media import png_bytes, stored_file
from tests.jobs.workers import wait_for, worker_thread
from tests.live_server import Api, LiveServer, api_token, open_socket, run_server, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

jobs_settings = fixtures.jobs_settings
broker = fixtures.redis_only_broker
# A job's whole run on a worker, seen from the socket.
RUN = 15.0


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[LiveServer]:
    with run_server() as live:
        yield live


@pytest.fixture
def editor_user(transactional_db):
    return UserFactory(username="ed", roles=["editors"])


@pytest.fixture
def watcher(transactional_db):
    return UserFactory(username="vic", roles=["viewers"])


@pytest.fixture
def watcher_cookie(watcher) -> str:
    return session_cookie(watcher)


@database_sync_to_async
def _queue_held(**fields) -> Job:
    """A queued job, not yet sent to the workers: a socket can subscribe to it first."""
    with override_settings(JOBS_DISPATCH=False):
        return services.job_enqueue(**fields)


@database_sync_to_async
def _send(job: Job) -> None:
    dispatch.job_send(job_id=job.pk)


def _state(job: dict) -> dict:
    # `attempts` is left out: job_started and job_completed do not carry the attempt.
    return {key: job[key] for key in ("status", "progress", "result", "error")}


def _apply(state: dict, event: dict) -> dict:
    """What a client does with a job event: the job's new state."""
    data = event["data"]
    return {**state, **{key: data[key] for key in state if key in data}}


async def test_a_job_run_by_a_worker_reaches_its_socket_until_completed(
    server, broker, editor_user, watcher_cookie
):
    episode = await database_sync_to_async(EpisodeFactory)(title="Pilot")
    job = await _queue_held(type="search_index", actor=editor_user, episode=episode)
    api = Api(server, await database_sync_to_async(api_token)(editor_user))
    before = (await api.get(f"/api/v1/jobs/{job.pk}/")).body
    with worker_thread(broker):
        async with open_socket(server, cookie=watcher_cookie) as ws:
            await ws.subscribe(f"job:{job.pk}")
            await _send(job)
            await ws.event("job_completed", timeout=RUN, job_id=job.pk)
    after = (await api.get(f"/api/v1/jobs/{job.pk}/")).body
    events = [frame for frame in ws.frames if frame["type"] == "event"]
    assert [e["event"] for e in events if e["event"] != "job_progress"] == [
        "job_started",
        "job_completed",
    ]
    assert {e["stream"] for e in events} == {f"job:{job.pk}"}
    state = _state(before)
    for event in events:
        state = _apply(state, event)
    assert state == _state(after)
    assert after["result"]["episode_id"] == episode.pk


async def test_a_job_out_of_attempts_dies_then_is_redriven_on_its_socket(
    server, broker, editor_user, watcher_cookie, tmp_path
):
    switch = tmp_path / "fail"
    switch.touch()
    job = await _queue_held(
        type="test_flaky", actor=editor_user, params={"switch": str(switch)}, max_attempts=2
    )
    with worker_thread(broker):
        async with open_socket(server, cookie=watcher_cookie) as ws:
            await ws.subscribe(f"job:{job.pk}")
            await _send(job)
            dead = await ws.event("job_failed", timeout=RUN, job_id=job.pk)
            # The dead letter is sent once the job's death has committed (and been pushed).
            depth = await asyncio.to_thread(
                wait_for, lambda: brokers.queue_depth(broker.dead_queue)
            )
            switch.unlink()
            await database_sync_to_async(call_command)("jobs_redrive", str(job.pk))
            await ws.event("job_completed", timeout=RUN, job_id=job.pk)
    names = [f["event"] for f in ws.frames if f["type"] == "event" and f["event"] != "job_progress"]
    assert names == [
        "job_started",
        "job_retry",
        "job_started",
        "job_failed",
        "job_queued",
        "job_started",
        "job_completed",
    ]
    retry = ws.events("job_retry")[0]["data"]
    assert (retry["status"], retry["attempt"], retry["error"]) == (
        "retrying",
        1,
        "storage timed out",
    )
    assert (dead["data"]["status"], dead["data"]["attempt"]) == ("dead", 2)
    assert depth == 1


async def test_a_job_that_cannot_run_fails_on_its_socket(
    server, broker, editor_user, watcher_cookie
):
    episode = await database_sync_to_async(EpisodeFactory)()
    image = await database_sync_to_async(stored_file)(episode, "a.png", "image/png", png_bytes())
    job = await _queue_held(
        type="thumbnail", actor=editor_user, episode=episode, file=image, params={"size": 1}
    )
    with worker_thread(broker):
        async with open_socket(server, cookie=watcher_cookie) as ws:
            await ws.subscribe(f"job:{job.pk}")
            await _send(job)
            failed = await ws.event("job_failed", timeout=RUN, job_id=job.pk)
    assert (failed["data"]["status"], failed["data"]["attempt"]) == ("failed", 1)
    assert (
        failed["data"]["error"] == "params.size must be a whole number of pixels from 16 to 2048."
    )


async def test_progress_reaches_the_socket_at_most_every_250_ms_and_always_at_100(
    server, broker, editor_user, watcher_cookie
):
    job = await _queue_held(type="test_progress", actor=editor_user, params={"pause": 0.01})
    with worker_thread(broker):
        async with open_socket(server, cookie=watcher_cookie) as ws:
            await ws.subscribe(f"job:{job.pk}")
            await _send(job)
            await ws.event("job_started", timeout=RUN, job_id=job.pk)
            started = time.monotonic()
            await ws.event("job_completed", timeout=RUN, job_id=job.pk)
            elapsed = time.monotonic() - started
    sent = [frame["data"]["progress"] for frame in ws.events("job_progress")]
    # 100 reports made over `elapsed` seconds: one event per 250 ms at most, plus the one at 100.
    assert 2 <= len(sent) <= math.ceil(elapsed / 0.25) + 1
    assert sent == sorted(set(sent))
    assert sent[-1] == 100
