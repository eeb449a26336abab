"""A server process is killed (SIGKILL) while clients are connected to it: they reconnect to
another process with a new ticket and resume from the last id they saw; every event written
meanwhile, through the other process, reaches each of them exactly once and in id order.
"""

from __future__ import annotations

import itertools
import signal

import pytest

from tests.faults.listener import (
    CountingClient,
    expected_ids,
    settle,
    wait_published,
    wait_received,
)
from tests.live_server import Api, log_problems, run_logged_servers

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WRITES_BEFORE = 6
WRITES_IN_GAP = 8
WRITES_AFTER = 4
PUBLISH_TIMEOUT = 30.0
RECEIVE_TIMEOUT = 15.0


async def test_clients_of_a_killed_server_resume_on_another_with_no_gap(
    isolated, ana_token, viewers, cookies, tokens, episodes, tmp_path
):
    await settle()
    with run_logged_servers(2, tmp_path / "logs", **isolated) as (a, b):
        through_a, through_b = Api(a, ana_token), Api(b, ana_token)
        numbers = itertools.count()

        async def write(api: Api) -> None:
            number = next(numbers)
            path = f"/api/v1/episodes/{episodes[number % len(episodes)].pk}/"
            reply = await api.patch(path, {"title": f"K{number}"})
            assert reply.status == 200, (number, reply)

        clients = [CountingClient(user.username, user, cookies[user.username]) for user in viewers]
        for client in clients:
            await client.connect(a)
        for number in range(WRITES_BEFORE):
            await write(through_a if number % 2 else through_b)
        # Committed through A just before it dies: A's relay may never publish it; B's does.
        await write(through_a)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(timeout=10)

        for _ in range(WRITES_IN_GAP):
            await write(through_b)
        for client in clients:
            await client.drop()
            ticket = await Api(b, tokens[client.name]).post("/api/v1/realtime/ticket/")
            assert ticket.status in (200, 201), ticket
            reply = await client.connect(b, resume=True, ticket=ticket.body["ticket"])
            assert reply is not None and reply["type"] == "resumed", reply
        for _ in range(WRITES_AFTER):
            await write(through_b)
        await wait_published(PUBLISH_TIMEOUT)
        await wait_received(clients, RECEIVE_TIMEOUT)

        for client in clients:
            expected = await expected_ids(client)
            assert client.missing_and_doubled(expected) == ([], {}), client.name
            assert client.ids == expected, client.name
    assert log_problems(b) == []
