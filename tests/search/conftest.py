"""Fixtures of the search tests: clients, a closed port, a fake and a real OpenSearch."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from episodes.models import Episode
from episodes.search import opensearch
from tests.factories import EpisodeFactory
from tests.search.fake_opensearch import FakeOpenSearch

NO_SERVER = "OPENSEARCH_URL is not set: no OpenSearch server on this machine"
EPISODES = "/api/v1/episodes/"


@pytest.fixture(autouse=True)
def _no_opensearch_by_default(settings) -> Iterator[None]:
    """Search runs on the database unless a test points it at an OpenSearch."""
    settings.OPENSEARCH_URL = ""
    settings.OPENSEARCH_RETRY_AFTER = 0.0
    opensearch.reset()
    yield
    opensearch.reset()


def client_for(user) -> APIClient:
    """An API client authenticated without a session: these tests are not about auth."""
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def client(viewer) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def make_episode(db) -> Callable[..., Episode]:
    """Rows without side effects (bulk-created): search is under test, not the receivers."""
    numbers = iter(range(1, 10_000))

    def make(title: str, description: str = "", **fields) -> Episode:
        built = EpisodeFactory.build(
            title=title, description=description, episode_number=next(numbers), **fields
        )
        return Episode.objects.bulk_create([built])[0]

    return make


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def opensearch_down(settings, closed_port) -> str:
    url = f"http://127.0.0.1:{closed_port}"
    settings.OPENSEARCH_URL = url
    settings.OPENSEARCH_TIMEOUT = 1.0
    settings.OPENSEARCH_INDEX_TIMEOUT = 1.0
    # As with a broker (the default without one is a single attempt: eager retries are
    # immediate).
    settings.OPENSEARCH_INDEX_ATTEMPTS = 8
    return url


@pytest.fixture
def fake_opensearch(settings, monkeypatch) -> FakeOpenSearch:
    fake = FakeOpenSearch()
    settings.OPENSEARCH_URL = "http://opensearch.invalid:9200"
    settings.OPENSEARCH_INDEX = "showdesk-test"
    client = fake.client()
    monkeypatch.setattr(opensearch, "client", lambda: client)
    return fake


@pytest.fixture
def real_opensearch(settings) -> Iterator[str]:
    """The server OPENSEARCH_URL names, with an alias of this test's own; skipped without one.

    Its indexes are deleted afterwards.
    """
    url = os.environ.get("OPENSEARCH_URL", "")
    if not url:
        pytest.skip(NO_SERVER)
    alias = f"showdesk-test-{uuid.uuid4().hex[:10]}"
    settings.OPENSEARCH_URL = url
    settings.OPENSEARCH_INDEX = alias
    settings.OPENSEARCH_TIMEOUT = 10.0
    yield alias
    client = opensearch.client()
    for name in client.indices.get(index=f"{alias}-v*"):
        client.indices.delete(index=name)
