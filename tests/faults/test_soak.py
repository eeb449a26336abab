"""The soak of bench/soak.py, shortened for the suite: sockets and writers on one server
process (PostgreSQL and Redis) for about a minute; its memory and open file descriptors
stay flat once warm, and every event reaches every socket that should have it exactly once.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from bench import soak
from tests.factories import EpisodeFactory, UserFactory
from tests.faults.listener import settle
from tests.live_server import api_token, log_problems, run_logged_servers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    # The soak itself, with the server's start and the sockets' opening around it.
    pytest.mark.timeout(300),
]

SOCKETS = 50
WRITERS = 5
SECONDS = 75.0
WRITE_INTERVAL = 1.0
SAMPLE_EVERY = 5.0
# The bench's window (minute 2 of 10), scaled and widened: with 50 sockets the server holds
# about 80 descriptors, and its warm-up (a few more connections to PostgreSQL and Redis as
# the load spreads) is over 10 % of that for the first half minute.
FLAT_FROM = SECONDS / 3


def _sessions(users: list) -> list[str]:
    store = SessionStore()
    rows = [
        Session(
            session_key=get_random_string(32),
            session_data=store.encode(
                {
                    "_auth_user_id": str(user.pk),
                    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    "_auth_user_hash": user.get_session_auth_hash(),
                }
            ),
            expire_date=timezone.now() + timezone.timedelta(hours=1),
        )
        for user in users
    ]
    Session.objects.bulk_create(rows)
    return [f"sessionid={row.session_key}" for row in rows]


@pytest.fixture
def world(transactional_db) -> dict:
    writer = UserFactory(username="writer", roles=["editors"])
    viewers = Group.objects.get(name="viewers")
    users = [UserFactory(username=f"soak{n:03d}") for n in range(SOCKETS)]
    viewers.user_set.add(*users)
    return {
        "cookies": _sessions(users),
        "token": api_token(writer),
        "episode_ids": [EpisodeFactory(title=f"Soak {n}").pk for n in range(WRITERS)],
    }


async def test_a_soak_keeps_memory_and_fds_flat_and_delivers_every_event_once(
    isolated, world, tmp_path
):
    await settle()
    # Production settings: DEBUG would keep every query in memory.
    env = {
        **isolated,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "REALTIME_RELAY_INTERVAL": "2.0",
    }
    with run_logged_servers(1, tmp_path / "logs", **env) as (server,):
        target = soak.Target(
            pid=server.process.pid,
            http_url=server.url,
            ws_url=server.ws_url,
            origin=server.url,
            cookies=world["cookies"],
            writer_token=world["token"],
            episode_ids=world["episode_ids"],
        )
        run = await soak.run_soak(
            target,
            writers=WRITERS,
            seconds=SECONDS,
            write_interval=WRITE_INTERVAL,
            sample_every=SAMPLE_EVERY,
            unpublished=sync_to_async(soak.unpublished_count),
            last_position=sync_to_async(soak.last_position),
        )
    rows = await sync_to_async(soak.event_rows)(run.first_position, run.last_position)
    delivery = soak.check_delivery(run, rows)
    report = soak.table(run, delivery, row_every=SAMPLE_EVERY)

    assert not run.open_failures and len(run.sockets) == SOCKETS, report
    assert run.writes.done > WRITERS * SECONDS / WRITE_INTERVAL * 0.8, (run.writes, report)
    assert not run.writes.failed, report
    assert delivery.closed == {}, report
    assert (delivery.missing, delivery.doubled, delivery.unexpected) == (0, 0, 0), report
    assert delivery.exact, report
    for item in soak.flatness(run.samples, FLAT_FROM):
        assert item.flat, f"{item.metric} {item.low}..{item.high}\n{report}"
    assert log_problems(server) == []
