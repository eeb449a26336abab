"""Admin of notification preferences and episode mutes: lists, a search, a change form."""

from __future__ import annotations

import pytest
from django.test import Client

from realtime.models import EpisodeMute, NotificationPreference
from tests.factories import UserFactory
from tests.notifications.conftest import follow

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db) -> Client:
    """A superuser: the role groups are given no permissions on preferences and mutes."""
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def test_preferences_are_listed_and_searched_by_user(staff_client, bo, cy):
    mine = NotificationPreference.objects.create(user=bo, type="job_failed", enabled=False)
    NotificationPreference.objects.create(user=cy, type="job_failed", enabled=False)
    response = staff_client.get("/admin/realtime/notificationpreference/?q=bo")
    assert response.status_code == 200
    assert listed(response) == {mine.pk}


def test_mutes_are_listed_and_filtered_by_search(staff_client, bo, cy, episode):
    mine = EpisodeMute.objects.create(user=bo, episode=episode)
    EpisodeMute.objects.create(user=cy, episode=episode)
    response = staff_client.get("/admin/realtime/episodemute/?q=bo")
    assert response.status_code == 200
    assert listed(response) == {mine.pk}


def test_a_mute_opens_in_its_change_form(staff_client, bo, episode):
    mute = EpisodeMute.objects.create(user=bo, episode=episode)
    response = staff_client.get(f"/admin/realtime/episodemute/{mute.pk}/change/")
    assert response.status_code == 200


def test_the_notification_list_shows_when_each_last_changed(staff_client, edit, ana, bo, episode):
    follow(episode, bo)
    edit(ana, episode, title="Renamed")
    response = staff_client.get("/admin/realtime/notification/")
    assert response.status_code == 200
    assert "updated_at" in response.context["cl"].list_display
