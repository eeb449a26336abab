"""Fixtures of the notification tests: an editor who changes things, followers, an episode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from episodes.models import EpisodeSubscription
from realtime.models import Activity, Event, Notification
from tests.factories import EpisodeFactory, UserFactory


def wipe_side_effects() -> None:
    Activity.objects.all().delete()
    Notification.objects.all().delete()
    Event.objects.all().delete()


def follow(episode, *users) -> None:
    EpisodeSubscription.objects.bulk_create(
        [EpisodeSubscription(episode=episode, user=user) for user in users]
    )


def notifications_of(user, type: str | None = None) -> list[Notification]:
    rows = Notification.objects.filter(user=user).order_by("id")
    return list(rows.filter(type=type) if type else rows)


def events_named(name: str, user=None) -> list[Event]:
    rows = Event.objects.filter(event=name).order_by("id")
    return list(rows.filter(user=user) if user is not None else rows)


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def ben(db):
    return UserFactory(username="ben", roles=["editors"])


@pytest.fixture
def bo(db):
    return UserFactory(username="bo", roles=["viewers"])


@pytest.fixture
def cy(db):
    return UserFactory(username="cy", roles=["viewers"])


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", roles=["admins"])


@pytest.fixture
def episode(db):
    made = EpisodeFactory(title="Pilot", season=1, episode_number=1)
    wipe_side_effects()
    return made


@pytest.fixture
def other_episode(db):
    made = EpisodeFactory(title="Second", season=1, episode_number=2)
    wipe_side_effects()
    return made


@pytest.fixture
def edit(api_client_for) -> Callable[..., Any]:
    """`edit(user, episode, title=...)`: a PATCH as the user, asserted to succeed."""

    def run(user, episode, **fields: Any):
        response = api_client_for(user).patch(f"/api/v1/episodes/{episode.pk}/", fields)
        assert response.status_code == 200, response.content
        return response

    return run
