"""Fixtures of the realtime tests: people with each role, an episode, side-effect warnings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from realtime.models import Activity, Event, Notification
from tests.factories import CompositionFactory, EpisodeFactory, UserFactory


def wipe_side_effects() -> None:
    """Forget what setting a test up wrote, so that a test sees only what it does."""
    Activity.objects.all().delete()
    Notification.objects.all().delete()
    Event.objects.all().delete()


def events_by_name(name: str) -> list[Event]:
    return list(Event.objects.filter(event=name).order_by("id"))


def streams_of(name: str) -> list[list[str]]:
    return [row.streams for row in events_by_name(name)]


def recipients_of(notification_type: str) -> set[int]:
    return set(
        Notification.objects.filter(type=notification_type).values_list("user_id", flat=True)
    )


@pytest.fixture
def editor2(db):
    return UserFactory(username="eddie", roles=["editors"])


@pytest.fixture
def inactive_editor(db):
    return UserFactory(username="gone", roles=["editors"], is_active=False)


@pytest.fixture
def staff_admin(db):
    """An admin who may use /admin/ (staff, in the admins group, not a superuser)."""
    return UserFactory(username="adam", roles=["admins"], is_staff=True)


@pytest.fixture
def team(viewer, editor, editor2, admin, outsider, inactive_editor) -> dict[str, Any]:
    """One user of each kind: recipients are computed from all of them."""
    return {
        "viewer": viewer,
        "editor": editor,
        "editor2": editor2,
        "admin": admin,
        "outsider": outsider,
        "inactive": inactive_editor,
    }


@pytest.fixture
def episode(db):
    """An episode made by the system, its own side effects wiped."""
    made = EpisodeFactory(title="Pilot", season=1, episode_number=1, description="The first")
    wipe_side_effects()
    return made


@pytest.fixture
def composition(episode):
    made = CompositionFactory(episode=episode, name="Opening", layout={"tracks": [1]})
    wipe_side_effects()
    return made


@pytest.fixture
def admin_site_client(staff_admin) -> Client:
    client = Client()
    client.force_login(staff_admin)
    return client


@pytest.fixture
def side_effect_warnings(caplog) -> Callable[[], list[dict[str, Any]]]:
    """The warnings the realtime layer logged about lost side effects, as key-value dicts."""
    caplog.set_level(logging.WARNING)

    def read() -> list[dict[str, Any]]:
        return [
            record.msg
            for record in caplog.records
            if record.levelno == logging.WARNING
            and isinstance(record.msg, dict)
            and str(record.msg.get("event", "")).startswith("side_effect")
        ]

    return read
