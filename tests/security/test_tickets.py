"""Socket tickets: single use (even when raced), short-lived, kept hashed, bound to an active
user with a role, and worth nothing anywhere but /ws/. (tests/realtime/test_socket_auth.py
has the first use, the second refused, the forged one.)
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from config.asgi import application
from realtime import tickets
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


def test_of_eight_concurrent_uses_exactly_one_gets_the_user(ana):
    ticket = tickets.ticket_issue(user=ana)

    def consume(_: int):
        try:
            return tickets.ticket_consume(ticket=ticket)
        finally:
            connection.close()  # each thread's own

    with ThreadPoolExecutor(max_workers=8) as pool:
        users = list(pool.map(consume, range(8)))
    assert [user.pk for user in users if user is not None] == [ana.pk]


def test_a_ticket_expires_after_its_lifetime(ana, monkeypatch):
    monkeypatch.setattr(tickets, "TICKET_TTL", 1)
    ticket = tickets.ticket_issue(user=ana)
    time.sleep(1.5)
    assert tickets.ticket_consume(ticket=ticket) is None


def test_a_ticket_lives_sixty_seconds_by_default(ana):
    assert tickets.TICKET_TTL == 60
    body = _issue(ana)
    assert body["expires_in"] == 60


def test_only_the_tickets_hash_is_stored(ana):
    ticket = tickets.ticket_issue(user=ana)
    digest = hashlib.sha256(ticket.encode()).hexdigest()
    assert cache.get(f"realtime:ticket:{ticket}") is None
    assert cache.get(f"realtime:ticket:{digest}") == ana.pk


def test_a_ticket_of_a_user_deactivated_since_is_refused(ana):
    ticket = tickets.ticket_issue(user=ana)
    ana.is_active = False
    ana.save(update_fields=["is_active"])
    assert tickets.ticket_consume(ticket=ticket) is None


async def test_a_ticket_of_a_user_who_lost_the_role_since_opens_no_socket(ana):
    from channels.db import database_sync_to_async

    ticket = await database_sync_to_async(tickets.ticket_issue)(user=ana)
    await database_sync_to_async(ana.groups.clear)()
    socket = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
    await socket.connect(timeout=TIMEOUT)
    assert await socket.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}


def test_a_user_without_a_role_gets_no_ticket(db):
    client = APIClient()
    client.force_authenticate(UserFactory(username="nobody"))
    assert client.post("/api/v1/realtime/ticket/").status_code == 403


@pytest.mark.parametrize("header", ["Token {}", "Bearer {}", "{}"])
def test_a_ticket_is_no_api_credential(ana, header):
    ticket = _issue(ana)["ticket"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(ticket))
    assert client.get("/api/v1/auth/me/").status_code in (401, 403)


@pytest.mark.parametrize("ticket", ["", "x" * 129, "\x00", "%00", "a" * 43 + "\u00e9"])
def test_a_malformed_ticket_is_refused_without_error(ticket, transactional_db):
    assert tickets.ticket_consume(ticket=ticket) is None


def _issue(user) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/realtime/ticket/")
    assert response.status_code == 201
    return response.json()
