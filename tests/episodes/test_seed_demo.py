"""`manage.py seed_demo`: demo users of each role, a season of episodes, idempotent."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.roles import user_roles
from episodes.models import Composition, Episode

pytestmark = pytest.mark.django_db

LOGIN = re.compile(r"^\s+(\w+)\s+/\s+(showdesk-\w+)\s+role: (\w+)$", re.MULTILINE)


@pytest.fixture
def seed(settings):
    settings.DEBUG = True

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    return run


def counts() -> tuple[int, int, int]:
    return (
        get_user_model().objects.count(),
        Episode.objects.count(),
        Composition.objects.count(),
    )


def test_seed_makes_a_user_of_each_role(seed):
    seed()
    users = get_user_model().objects.filter(username__in=["admin", "editor", "viewer"])
    assert {user.username: user_roles(user) for user in users} == {
        "admin": ["admins"],
        "editor": ["editors"],
        "viewer": ["viewers"],
    }


def test_seed_makes_a_season_of_episodes_some_published(seed):
    seed()
    season = Episode.objects.filter(season=1)
    assert season.count() == 8
    assert list(season.order_by("episode_number").values_list("episode_number", flat=True)) == [
        *range(1, 9)
    ]
    assert season.filter(status=Episode.Status.PUBLISHED).count() == 3
    assert Composition.objects.filter(episode__season=1).count() == 8


def test_seed_prints_logins_that_work(seed):
    logins = LOGIN.findall(seed())
    assert {role for _, _, role in logins} == {"admins", "editors", "viewers"}
    for username, password, _ in logins:
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
        )
        assert response.status_code == 200, username


def test_seed_twice_changes_nothing_the_second_time(seed):
    seed()
    before = counts()
    second = seed()
    assert counts() == before
    assert "Episodes created: 0" in second
    assert LOGIN.findall(second) == []


def test_seed_of_another_season_adds_only_that_season(seed):
    seed()
    seed("--season", "2")
    assert Episode.objects.filter(season=2).count() == 8
    assert get_user_model().objects.filter(username__in=["admin", "editor", "viewer"]).count() == 3


def test_seed_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert Episode.objects.count() == 0
