"""Collaboration on real sockets of a real server process: two editors on one episode, who is
editing, the stale save's 412, and a late subscriber to a job that is waiting to retry."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from jobs import services as job_services
from jobs.models import Job
from tests.live_server import WAIT, LiveServer, Socket, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: Any


def _call(server: LiveServer, token: str, method: str, path: str, body=None, **headers) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Authorization", f"Token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310
            return Answer(response.status, _lower(response.headers), json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers), json.loads(error.read() or b"null"))


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


async def call(*args, **kwargs) -> Answer:
    return await asyncio.to_thread(_call, *args, **kwargs)


async def _edit(socket: Socket, stream: str) -> dict[str, Any]:
    await socket.subscribe(stream)
    return await socket.reply(
        {"type": "presence", "stream": stream, "state": "editing"}, "presence_ack", "error"
    )


def _states(viewers: list[dict]) -> dict[str, str]:
    return {viewer["username"]: viewer["state"] for viewer in viewers}


async def test_two_editors_one_saves_the_other_is_told_and_its_stale_save_is_412(
    server, ana, ana_cookie, ana_token, cy, cy_cookie, cy_token, episode
):
    stream = f"episode:{episode.pk}"
    path = f"/api/v1/episodes/{episode.pk}/"
    opened = await call(server, cy_token, "GET", path)
    assert (opened.status, opened.headers["etag"]) == (200, '"1"')
    async with (
        open_socket(server, cookie=ana_cookie) as ana_socket,
        open_socket(server, cookie=cy_cookie) as cy_socket,
    ):
        assert (await _edit(ana_socket, stream))["type"] == "presence_ack"
        cy_ack = await _edit(cy_socket, stream)
        assert _states(cy_ack["viewers"]) == {"ana": "editing", "cy": "editing"}
        cy_ref = {"id": cy.pk, "username": "cy"}
        update = await ana_socket.event("viewer_updated", state="editing", user=cy_ref)
        assert _states(update["data"]["viewers"]) == {"ana": "editing", "cy": "editing"}
        listed = await call(server, ana_token, "GET", f"/api/v1/presence/episode/{episode.pk}/")
        assert _states(listed.body["viewers"]) == {"ana": "editing", "cy": "editing"}

        saved = await call(server, ana_token, "PATCH", path, {"title": "Ana's"}, If_Match='"1"')
        told = await cy_socket.event("revision_saved")
        stale = await call(server, cy_token, "PATCH", path, {"title": "Cy's"}, If_Match='"1"')
        # An event committed after ana's save: her socket has had everything before it.
        await call(server, ana_token, "PATCH", path, {"description": "later"})
        await ana_socket.event("episode_updated", changed_fields=["description"])

    assert (saved.status, saved.headers["etag"], saved.body["version"]) == (200, '"2"', 2)
    assert told["stream"] == f"editing:{stream}"
    assert told["data"] == {
        "actor": {"id": ana.pk, "username": "ana"},
        "version": 2,
        "resource_type": "episode",
        "resource_id": episode.pk,
    }
    assert stale.status == 412
    assert stale.headers["etag"] == '"2"'
    assert stale.body["code"] == "precondition_failed"
    assert (stale.body["current"]["title"], stale.body["current"]["version"]) == ("Ana's", 2)
    assert ana_socket.events("revision_saved") == []


@pytest.fixture
def retrying_job(episode) -> Job:
    """A job whose first attempt failed with a passing error: it waits for its backoff."""
    job = Job.objects.create(type="search_index", episode=episode, max_attempts=3)
    running = job_services.job_claim(job=job).job
    return job_services.job_fail(job=running, error="storage timed out", retryable=True)


async def test_a_late_job_subscriber_gets_the_retrying_state_with_the_next_retry_time(
    server, ana_cookie, retrying_job
):
    job = retrying_job
    async with open_socket(server, cookie=ana_cookie) as socket:
        reply = await socket.subscribe(f"job:{job.pk}")
    snapshot = reply["job"]
    assert (snapshot["id"], snapshot["status"], snapshot["error"]) == (
        job.pk,
        "retrying",
        "storage timed out",
    )
    assert (snapshot["attempts"], snapshot["max_attempts"]) == (1, 3)
    due = datetime.fromisoformat(snapshot["next_retry_at"].replace("Z", "+00:00"))
    assert due == job.next_retry_at
