"""Preferences and mutes decide who is notified: a type turned off, an episode muted."""

from __future__ import annotations

import pytest

from common.actor import acting_as
from jobs import services as job_services
from realtime.models import EpisodeMute, Notification, NotificationPreference
from tests.factories import EpisodeFactory
from tests.notifications.conftest import events_named, follow, notifications_of, wipe_side_effects

pytestmark = pytest.mark.django_db


def turn_off(user, type: str) -> None:
    NotificationPreference.objects.create(user=user, type=type, enabled=False)


def mute(user, episode) -> None:
    EpisodeMute.objects.create(user=user, episode=episode)


def test_a_type_turned_off_is_not_sent_and_not_pushed(edit, ana, bo, cy, episode):
    follow(episode, bo, cy)
    turn_off(bo, "episode_updated")
    edit(ana, episode, title="Renamed")
    assert notifications_of(bo) == []
    assert [row.user_id for row in events_named("notification_created")] == [cy.pk]


def test_a_type_turned_off_silences_only_that_type(api_client_for, ana, bo, episode):
    turn_off(bo, "episode_updated")
    response = api_client_for(ana).post(f"/api/v1/episodes/{episode.pk}/publish/")
    assert response.status_code == 200
    assert [row.type for row in notifications_of(bo)] == ["episode_published"]


def test_a_type_turned_back_on_is_sent_again(edit, ana, bo, episode):
    follow(episode, bo)
    NotificationPreference.objects.create(user=bo, type="episode_updated", enabled=True)
    edit(ana, episode, title="Renamed")
    assert [row.type for row in notifications_of(bo)] == ["episode_updated"]


def test_episode_created_can_be_turned_off(api_client_for, ana, ben, boss):
    turn_off(ben, "episode_created")
    body = {"title": "New", "episode_number": 9, "season": 1}
    assert api_client_for(ana).post("/api/v1/episodes/", body).status_code == 201
    assert set(Notification.objects.values_list("user_id", flat=True)) == {boss.pk}


def test_a_muted_episode_sends_no_update(edit, ana, bo, cy, episode):
    follow(episode, bo, cy)
    mute(bo, episode)
    edit(ana, episode, title="Renamed")
    assert notifications_of(bo) == []
    assert [row.user_id for row in notifications_of(cy)] == [cy.pk]


def test_a_muted_episode_sends_no_publication(api_client_for, ana, bo, cy, episode):
    mute(bo, episode)
    api_client_for(ana).post(f"/api/v1/episodes/{episode.pk}/publish/")
    assert notifications_of(bo) == []
    assert [row.type for row in notifications_of(cy)] == ["episode_published"]


def test_muting_one_episode_leaves_the_others_heard(edit, ana, bo, episode, other_episode):
    follow(episode, bo)
    follow(other_episode, bo)
    mute(bo, episode)
    edit(ana, episode, title="Muted")
    edit(ana, other_episode, title="Heard")
    assert [row.data["episode_id"] for row in notifications_of(bo)] == [other_episode.pk]


def test_an_admin_who_muted_an_episode_still_hears_it_was_deleted(api_client_for, ana, boss):
    doomed = EpisodeFactory(title="Doomed")
    mute(boss, doomed)
    wipe_side_effects()
    assert api_client_for(ana).delete(f"/api/v1/episodes/{doomed.pk}/").status_code == 204
    assert [row.message for row in notifications_of(boss)] == ["Doomed deleted permanently"]


def test_episode_deleted_turned_off_is_not_sent(api_client_for, ana, boss, episode):
    turn_off(boss, "episode_deleted")
    api_client_for(ana).delete(f"/api/v1/episodes/{episode.pk}/")
    assert notifications_of(boss) == []


def test_a_job_failure_on_a_muted_episode_still_reaches_its_starter(ana, boss, episode):
    job = job_services.job_enqueue(type="media_probe", episode=episode, actor=ana)
    mute(ana, episode)
    turn_off(boss, "job_failed")
    wipe_side_effects()
    with acting_as(None):
        job_services.job_fail(job=job, error="not audio", retryable=False)
    assert [row.type for row in notifications_of(ana)] == ["job_failed"]
    assert notifications_of(boss) == []
