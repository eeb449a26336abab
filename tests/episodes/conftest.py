"""Fixtures of the episodes tests: a superuser, token clients, and one episode to act on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from episodes.models import Composition, Episode
from tests.factories import DEFAULT_PASSWORD, CompositionFactory, EpisodeFactory


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", password=DEFAULT_PASSWORD)


@pytest.fixture
def token_client_for() -> Callable:
    """An API client sending `Authorization: Token <key>` for a user."""

    def make(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


# The rows every test acts on are bulk-created: no activity, notifications or events of
# their own, which no test here is about and which would make each test slower.
@pytest.fixture
def episode(db) -> Episode:
    built = EpisodeFactory.build(
        title="Pilot", season=1, episode_number=1, description="The first one"
    )
    return Episode.objects.bulk_create([built])[0]


@pytest.fixture
def composition(episode) -> Composition:
    built = CompositionFactory.build(episode=episode, name="Opening", layout={"tracks": [1]})
    return Composition.objects.bulk_create([built])[0]


@pytest.fixture
def fast_client_for() -> Callable:
    """An API client authenticated without a session, for tests that are not about auth."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
