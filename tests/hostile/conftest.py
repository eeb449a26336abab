"""Fixtures of the hostile-input tests: users, an episode, and a real server process whose
log each live test checks for errors and unhandled exceptions once it is done."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import EpisodeFactory, UserFactory
from tests.live_server import (
    LiveServer,
    api_token,
    log_problems,
    log_size,
    run_logged_servers,
    session_cookie,
)

LAYER_PREFIX = f"hostile{uuid.uuid4().hex[:10]}"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[LiveServer]:
    """One uvicorn process for the module, with a channel-layer prefix of its own."""
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
        "SHOWDESK_TEST_LAYER_PREFIX": LAYER_PREFIX,
    }
    with run_logged_servers(1, tmp_path_factory.mktemp("hostile-logs"), **env) as (live,):
        yield live


@pytest.fixture
def clean_log(server) -> Iterator[list[str]]:
    """After the test: nothing it made the server log is an error or an unhandled exception.

    A test appends to the list the starts of events it expects to be logged as errors.
    """
    start = log_size(server)
    allowed: list[str] = []
    yield allowed
    assert log_problems(server, allowed=tuple(allowed), since=start) == []


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def bo(transactional_db):
    return UserFactory(username="bo", roles=["viewers"])


@pytest.fixture
def cy(transactional_db):
    return UserFactory(username="cy", roles=["viewers"])


@pytest.fixture
def ana_token_fixture(ana) -> str:
    return api_token(ana)


@pytest.fixture
def bo_cookie(bo) -> str:
    return session_cookie(bo)


@pytest.fixture
def cy_cookie(cy) -> str:
    return session_cookie(cy)


@pytest.fixture
def episode(transactional_db):
    return EpisodeFactory(title="Pilot")
