"""Fixtures of the real-socket tests: a server process per module, two users, an episode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import EpisodeFactory, UserFactory
from tests.live_server import LiveServer, api_token, run_server, session_cookie


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[LiveServer]:
    """One uvicorn process for the module, serving the test database."""
    with run_server() as live:
        yield live


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def bo(transactional_db):
    return UserFactory(username="bo", roles=["viewers"])


@pytest.fixture
def ana_cookie(ana) -> str:
    return session_cookie(ana)


@pytest.fixture
def bo_cookie(bo) -> str:
    return session_cookie(bo)


@pytest.fixture
def ana_token(ana) -> str:
    return api_token(ana)


@pytest.fixture
def bo_token(bo) -> str:
    return api_token(bo)


@pytest.fixture
def episode(transactional_db):
    return EpisodeFactory(title="Pilot")
