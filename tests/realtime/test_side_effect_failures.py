"""A side effect that fails never fails the change: the request succeeds and one warning says so.

The failures are real database errors (a statement on a missing table), so on PostgreSQL
they abort the transaction unless the savepoint around the side effect is rolled back.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection

from episodes.models import Composition, Episode
from realtime.models import Activity, Event, Notification

pytestmark = pytest.mark.django_db

NEW_EPISODE = {"title": "Dawn", "episode_number": 7, "season": 2}


def broken_write(*args: object, **kwargs: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO realtime_no_such_table (id) VALUES (1)")


def break_activity() -> mock._patch:
    return mock.patch.object(Activity.objects, "create", broken_write)


def break_notifications() -> mock._patch:
    return mock.patch.object(Notification.objects, "bulk_create", broken_write)


class break_events:
    """Every way the outbox writes an event fails."""

    def __enter__(self) -> None:
        self.patches = [
            mock.patch.object(Event.objects, "create", broken_write),
            mock.patch.object(Event.objects, "bulk_create", broken_write),
            # Large fan-outs on PostgreSQL are written with COPY, not bulk_create.
            mock.patch("realtime.outbox.emit_many", broken_write),
        ]
        for patch in self.patches:
            patch.start()

    def __exit__(self, *exc: object) -> None:
        for patch in self.patches:
            patch.stop()


def create_episode(client) -> int:
    response = client.post("/api/v1/episodes/", NEW_EPISODE)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_failed_activity_write_keeps_the_episode_and_the_other_side_effects(
    api_client_for, team, side_effect_warnings
):
    with break_activity():
        episode_id = create_episode(api_client_for(team["editor"]))
    assert Episode.objects.filter(pk=episode_id, title="Dawn").exists()
    assert not Activity.objects.exists()
    assert Notification.objects.filter(type="episode_created").count() == 2
    assert Event.objects.filter(event="episode_created").count() == 1
    assert not Event.objects.filter(event="activity_logged").exists()


def test_failed_activity_write_logs_one_warning_naming_it(
    api_client_for, team, side_effect_warnings
):
    with break_activity():
        episode_id = create_episode(api_client_for(team["editor"]))
    [warning] = side_effect_warnings()
    assert warning["part"] == "activity"
    assert "realtime_no_such_table" in warning["error"]
    assert warning["action"] == "created_episode"
    assert (warning["resource_type"], warning["resource_id"]) == ("episode", episode_id)


def test_failed_notification_write_keeps_the_episode_and_the_activity(
    api_client_for, team, side_effect_warnings
):
    with break_notifications():
        episode_id = create_episode(api_client_for(team["editor"]))
    assert Episode.objects.filter(pk=episode_id).exists()
    assert not Notification.objects.exists()
    assert not Event.objects.filter(event="notification_created").exists()
    assert Activity.objects.filter(action="created_episode", resource_id=episode_id).exists()
    assert Event.objects.filter(event="episode_created").exists()


def test_failed_notification_write_logs_one_warning_naming_it(
    api_client_for, team, side_effect_warnings
):
    with break_notifications():
        episode_id = create_episode(api_client_for(team["editor"]))
    [warning] = side_effect_warnings()
    assert warning["part"] == "notifications"
    assert "realtime_no_such_table" in warning["error"]
    assert (warning["action"], warning["resource_id"]) == ("created_episode", episode_id)


def test_failed_event_write_keeps_the_episode_the_activity_and_the_notifications(
    api_client_for, team, side_effect_warnings
):
    with break_events():
        episode_id = create_episode(api_client_for(team["editor"]))
    assert Episode.objects.filter(pk=episode_id).exists()
    assert not Event.objects.exists()
    assert Activity.objects.filter(action="created_episode").count() == 1
    assert Notification.objects.filter(type="episode_created").count() == 2


def test_failed_event_write_logs_one_warning_naming_it(api_client_for, team, side_effect_warnings):
    with break_events():
        episode_id = create_episode(api_client_for(team["editor"]))
    [warning] = side_effect_warnings()
    assert warning["part"] == "events"
    assert "realtime_no_such_table" in warning["error"]
    assert (warning["action"], warning["resource_id"]) == ("created_episode", episode_id)


def test_every_write_failing_still_commits_the_change_with_one_warning(
    api_client_for, team, side_effect_warnings
):
    with break_activity(), break_notifications(), break_events():
        episode_id = create_episode(api_client_for(team["editor"]))
    assert Episode.objects.filter(pk=episode_id).exists()
    assert not Activity.objects.exists()
    assert not Notification.objects.exists()
    assert not Event.objects.exists()
    [warning] = side_effect_warnings()
    assert set(warning["part"].split(", ")) == {"activity", "notifications", "events"}


def test_a_failing_payload_builder_does_not_fail_the_change(
    api_client_for, team, side_effect_warnings
):
    with mock.patch("realtime.events.episode_payload", side_effect=ValueError("bad payload")):
        episode_id = create_episode(api_client_for(team["editor"]))
    assert Episode.objects.filter(pk=episode_id).exists()
    [warning] = side_effect_warnings()
    assert "bad payload" in warning["error"]


def test_a_failed_side_effect_of_a_publish_still_publishes(
    api_client_for, team, episode, side_effect_warnings
):
    with break_notifications():
        response = api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    assert response.status_code == 200
    episode.refresh_from_db()
    assert episode.status == "published"
    assert Activity.objects.filter(action="published_episode").exists()
    [warning] = side_effect_warnings()
    assert (warning["part"], warning["action"]) == ("notifications", "published_episode")


def test_a_failed_side_effect_of_a_patch_still_saves(
    api_client_for, team, episode, side_effect_warnings
):
    with break_activity():
        response = api_client_for(team["editor"]).patch(
            f"/api/v1/episodes/{episode.id}/", {"title": "Kept"}
        )
    assert response.status_code == 200
    assert Episode.objects.get(pk=episode.pk).title == "Kept"
    [warning] = side_effect_warnings()
    assert (warning["part"], warning["action"]) == ("activity", "updated_episode")


def test_a_failed_side_effect_of_a_delete_still_deletes(
    api_client_for, team, episode, side_effect_warnings
):
    episode_id = episode.id
    with break_events():
        response = api_client_for(team["editor"]).delete(f"/api/v1/episodes/{episode_id}/")
    assert response.status_code == 204
    assert not Episode.objects.filter(pk=episode_id).exists()
    [warning] = side_effect_warnings()
    assert (warning["part"], warning["action"]) == ("events", "deleted_episode")


def test_a_failed_side_effect_of_a_composition_still_saves(
    api_client_for, team, episode, side_effect_warnings
):
    with break_activity(), break_events():
        response = api_client_for(team["editor"]).post(
            "/api/v1/compositions/", {"episode": episode.id, "name": "Intro"}
        )
    assert response.status_code == 201
    assert Composition.objects.filter(pk=response.json()["id"]).exists()
    assert len(side_effect_warnings()) == 1


def test_a_failed_view_log_still_shows_the_episode(
    api_client_for, team, episode, side_effect_warnings
):
    with break_activity():
        response = api_client_for(team["viewer"]).get(f"/api/v1/episodes/{episode.id}/")
    assert response.status_code == 200
    assert response.json()["title"] == "Pilot"
    [warning] = side_effect_warnings()
    assert (warning["part"], warning["action"]) == ("activity", "viewed_episode")


def test_an_unreachable_cache_still_shows_the_episode(
    api_client_for, team, episode, side_effect_warnings
):
    with mock.patch("realtime.receivers.cache.add", side_effect=ConnectionError("cache down")):
        response = api_client_for(team["viewer"]).get(f"/api/v1/episodes/{episode.id}/")
    assert response.status_code == 200
    [warning] = side_effect_warnings()
    assert warning["part"] == "cache"


def test_a_failed_read_event_still_marks_the_notification_read(
    api_client_for, team, side_effect_warnings
):
    notification = Notification.objects.create(user=team["viewer"], type="t", message="m")
    with break_events():
        response = api_client_for(team["viewer"]).post(
            f"/api/v1/notifications/{notification.id}/read/"
        )
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None
    [warning] = side_effect_warnings()
    assert warning["part"] == "events"


@pytest.mark.django_db(transaction=True)
def test_the_change_is_committed_when_its_side_effects_fail(
    api_client_for, team, side_effect_warnings
):
    with break_activity(), break_notifications(), break_events():
        episode_id = create_episode(api_client_for(team["editor"]))
    # A transactional test: the row was committed, not only written in the test's transaction.
    assert Episode.objects.filter(pk=episode_id).exists()
    assert len(side_effect_warnings()) == 1
