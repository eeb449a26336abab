"""What each change writes: the activity, the notifications and the events of CONTRACT.md."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from common.actor import acting_as
from episodes import services as episode_services
from episodes.models import Composition, Episode, EpisodeSubscription
from realtime.models import Activity, Event, Notification
from tests.factories import CompositionFactory
from tests.realtime.conftest import events_by_name, recipients_of, streams_of

pytestmark = pytest.mark.django_db

NEW_EPISODE = {"title": "Dawn", "episode_number": 7, "season": 2, "description": "Early"}


def only_activity() -> Activity:
    rows = list(Activity.objects.all())
    assert len(rows) == 1, [str(row) for row in rows]
    return rows[0]


def actions() -> list[str]:
    return list(Activity.objects.order_by("id").values_list("action", flat=True))


# --- created_episode ------------------------------------------------------------------------


def test_creating_an_episode_logs_created_episode_by_the_caller(api_client_for, team):
    response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    assert response.status_code == 201
    activity = only_activity()
    assert activity.user == team["editor"]
    assert activity.action == "created_episode"
    assert (activity.resource_type, activity.resource_id) == ("episode", response.json()["id"])
    assert activity.metadata == {"title": "Dawn"}


def test_creating_an_episode_notifies_admins_and_editors_but_not_the_actor(api_client_for, team):
    api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    assert recipients_of("episode_created") == {team["admin"].id, team["editor2"].id}
    messages = set(Notification.objects.values_list("message", flat=True))
    assert messages == {"New episode: Dawn"}


def test_episode_created_notification_carries_the_episode_and_actor(api_client_for, team):
    response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    notification = Notification.objects.get(user=team["admin"])
    assert notification.type == "episode_created"
    assert notification.read_at is None
    assert notification.data == {
        "episode_id": response.json()["id"],
        "title": "Dawn",
        "actor": {"id": team["editor"].id, "username": "ed"},
    }


def test_creating_an_episode_writes_its_events_on_the_contract_streams(api_client_for, team):
    response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    episode_id = response.json()["id"]
    assert streams_of("episode_created") == [["episodes", "broadcast"]]
    assert streams_of("activity_logged") == [["activity"]]
    pushed = {
        row.user_id: row.streams for row in Event.objects.filter(event="notification_created")
    }
    assert pushed == {
        team["admin"].id: [f"user:{team['admin'].id}"],
        team["editor2"].id: [f"user:{team['editor2'].id}"],
    }
    created = events_by_name("episode_created")[0]
    assert created.user_id is None
    assert created.data["episode"]["id"] == episode_id
    assert created.data["episode"]["title"] == "Dawn"
    assert created.data["actor"] == {"id": team["editor"].id, "username": "ed"}


def test_episode_event_payload_matches_the_rest_representation(api_client_for, team):
    response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    assert events_by_name("episode_created")[0].data["episode"] == response.json()


def test_notification_created_event_carries_the_notification_and_unread_count(api_client_for, team):
    api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    notification = Notification.objects.get(user=team["admin"])
    event = Event.objects.get(event="notification_created", user=team["admin"])
    assert event.data["unread_count"] == 1
    assert event.data["notification"]["id"] == notification.id
    assert event.data["notification"]["message"] == "New episode: Dawn"
    assert event.data["notification"]["read_at"] is None


def test_activity_logged_event_carries_the_activity_as_rest_shows_it(api_client_for, team):
    client = api_client_for(team["editor"])
    client.post("/api/v1/episodes/", NEW_EPISODE)
    listed = client.get("/api/v1/activity/").json()["results"][0]
    assert events_by_name("activity_logged")[0].data == {"activity": listed}


def test_creating_an_episode_subscribes_its_author(api_client_for, team):
    response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    assert EpisodeSubscription.objects.filter(
        episode_id=response.json()["id"], user=team["editor"]
    ).exists()


# --- updated_episode ------------------------------------------------------------------------


def test_patch_with_unchanged_values_logs_no_update(api_client_for, team, episode):
    response = api_client_for(team["editor"]).patch(
        f"/api/v1/episodes/{episode.id}/", {"title": "Pilot", "description": "The first"}
    )
    assert response.status_code == 200
    assert not Activity.objects.filter(action="updated_episode").exists()
    assert not Event.objects.filter(event="episode_updated").exists()
    assert not Notification.objects.exists()


def test_patch_lists_every_field_that_changed(api_client_for, team, episode):
    api_client_for(team["editor"]).patch(
        f"/api/v1/episodes/{episode.id}/",
        {"title": "Pilot, again", "description": "Rewritten", "season": 1},
    )
    activity = only_activity()
    assert activity.action == "updated_episode"
    assert activity.user == team["editor"]
    assert sorted(activity.metadata["changed_fields"]) == ["description", "title"]
    assert activity.metadata["title"] == "Pilot, again"


def test_put_lists_only_the_fields_whose_value_changed(api_client_for, team, episode):
    body = {
        "title": "Pilot",
        "episode_number": 1,
        "season": 1,
        "description": "The first",
        "air_date": "2027-01-05",
    }
    api_client_for(team["editor"]).put(f"/api/v1/episodes/{episode.id}/", body)
    assert only_activity().metadata["changed_fields"] == ["air_date"]


def test_episode_updated_event_carries_changed_fields_on_contract_streams(
    api_client_for, team, episode
):
    api_client_for(team["editor"]).patch(f"/api/v1/episodes/{episode.id}/", {"title": "Renamed"})
    [event] = events_by_name("episode_updated")
    assert event.streams == ["episodes", f"episode:{episode.id}"]
    assert event.data["changed_fields"] == ["title"]
    assert event.data["episode"]["title"] == "Renamed"
    assert event.data["actor"] == {"id": team["editor"].id, "username": "ed"}


def test_an_update_notifies_the_subscribers_but_not_the_actor(api_client_for, team, episode):
    for user in (team["viewer"], team["editor"], team["inactive"]):
        EpisodeSubscription.objects.create(episode=episode, user=user)
    api_client_for(team["editor"]).patch(f"/api/v1/episodes/{episode.id}/", {"title": "Renamed"})
    assert recipients_of("episode_updated") == {team["viewer"].id}
    notification = Notification.objects.get()
    assert notification.message == "Renamed updated by ed"
    assert notification.data["changed_fields"] == ["title"]


def test_changing_an_episode_subscribes_its_author(api_client_for, team, episode):
    api_client_for(team["editor"]).patch(f"/api/v1/episodes/{episode.id}/", {"title": "Renamed"})
    api_client_for(team["admin"]).patch(f"/api/v1/episodes/{episode.id}/", {"title": "Again"})
    assert recipients_of("episode_updated") == {team["editor"].id}


def test_a_status_change_is_not_logged_as_an_update(api_client_for, team, episode):
    api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    assert actions() == ["published_episode"]
    assert not Event.objects.filter(event="episode_updated").exists()


def test_changed_fields_compare_with_the_value_before_the_save(team, episode):
    """A value set and then set back in memory is not a change."""
    loaded = Episode.objects.get(pk=episode.pk)
    loaded.title = "Something else"
    loaded.title = "Pilot"
    loaded.description = "New words"
    with acting_as(team["editor"]):
        loaded.save()
    assert only_activity().metadata["changed_fields"] == ["description"]


def test_a_save_limited_to_some_fields_reports_only_those(team, episode):
    loaded = Episode.objects.get(pk=episode.pk)
    loaded.title = "Saved"
    loaded.description = "Not saved"
    with acting_as(team["editor"]):
        loaded.save(update_fields=["title"])
        loaded.save(update_fields=["description"])
    assert [row.metadata["changed_fields"] for row in Activity.objects.order_by("id")] == [
        ["title"],
        ["description"],
    ]


def test_a_second_save_reports_only_what_changed_since_the_first(team, episode):
    loaded = Episode.objects.get(pk=episode.pk)
    with acting_as(team["editor"]):
        loaded.title = "One"
        loaded.save()
        loaded.season = 3
        loaded.save()
    assert [row.metadata["changed_fields"] for row in Activity.objects.order_by("id")] == [
        ["title"],
        ["season"],
    ]


def test_a_stale_instance_reports_only_what_it_changes(team, episode):
    stale = Episode.objects.get(pk=episode.pk)
    Episode.objects.filter(pk=episode.pk).update(title="Changed elsewhere")
    stale.description = "Mine"
    with acting_as(team["editor"]):
        stale.save(update_fields=["description"])
    assert only_activity().metadata["changed_fields"] == ["description"]


def test_a_refreshed_instance_reports_only_what_it_changes(team, episode):
    loaded = Episode.objects.get(pk=episode.pk)
    Episode.objects.filter(pk=episode.pk).update(title="Changed elsewhere")
    loaded.refresh_from_db()
    loaded.description = "Mine"
    with acting_as(team["editor"]):
        loaded.save()
    assert only_activity().metadata["changed_fields"] == ["description"]


def test_a_date_given_as_text_equal_to_the_stored_one_is_not_a_change(team, episode):
    Episode.objects.filter(pk=episode.pk).update(air_date="2027-01-05")
    loaded = Episode.objects.get(pk=episode.pk)
    loaded.air_date = "2027-01-05"
    with acting_as(team["editor"]):
        loaded.save()
    assert not Activity.objects.exists()


# --- published / archived ---------------------------------------------------------------------


def test_publishing_logs_published_episode(api_client_for, team, episode):
    response = api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    assert response.status_code == 200
    activity = only_activity()
    assert (activity.user, activity.action) == (team["editor"], "published_episode")
    assert (activity.resource_type, activity.resource_id) == ("episode", episode.id)
    assert activity.metadata == {"title": "Pilot"}


def test_publishing_notifies_every_active_user_with_a_role_but_the_actor(
    api_client_for, team, episode
):
    api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    assert recipients_of("episode_published") == {
        team["viewer"].id,
        team["editor2"].id,
        team["admin"].id,
    }
    assert set(Notification.objects.values_list("message", flat=True)) == {"Pilot published"}


def test_publishing_notifies_superusers_without_a_group(api_client_for, team, episode):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="x")
    api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    assert root.id in recipients_of("episode_published")


def test_episode_published_event_is_on_the_contract_streams(api_client_for, team, episode):
    api_client_for(team["editor"]).post(f"/api/v1/episodes/{episode.id}/publish/")
    [event] = events_by_name("episode_published")
    assert event.streams == ["episodes", f"episode:{episode.id}", "broadcast"]
    assert event.data["episode"]["status"] == "published"
    assert event.data["actor"] == {"id": team["editor"].id, "username": "ed"}


def test_archiving_logs_archived_episode_and_notifies_nobody(api_client_for, team, episode):
    response = api_client_for(team["admin"]).post(f"/api/v1/episodes/{episode.id}/archive/")
    assert response.status_code == 200
    activity = only_activity()
    assert (activity.user, activity.action) == (team["admin"], "archived_episode")
    assert not Notification.objects.exists()
    [event] = events_by_name("episode_archived")
    assert event.streams == ["episodes", f"episode:{episode.id}", "broadcast"]
    assert event.data["episode"]["status"] == "archived"


def test_a_refused_transition_logs_nothing(api_client_for, team, episode):
    client = api_client_for(team["editor"])
    client.post(f"/api/v1/episodes/{episode.id}/publish/")
    response = client.post(f"/api/v1/episodes/{episode.id}/publish/")
    assert response.status_code == 409
    assert actions() == ["published_episode"]
    assert len(events_by_name("episode_published")) == 1


# --- deleted_episode --------------------------------------------------------------------------


def test_deleting_logs_deleted_episode_with_its_title(api_client_for, team, episode):
    response = api_client_for(team["editor"]).delete(f"/api/v1/episodes/{episode.id}/")
    assert response.status_code == 204
    activity = only_activity()
    assert (activity.user, activity.action) == (team["editor"], "deleted_episode")
    assert (activity.resource_type, activity.resource_id) == ("episode", episode.id)
    assert activity.metadata == {"title": "Pilot"}


def test_deleting_notifies_the_admins_but_not_the_actor(api_client_for, team, staff_admin, episode):
    api_client_for(team["admin"]).delete(f"/api/v1/episodes/{episode.id}/")
    assert recipients_of("episode_deleted") == {staff_admin.id}
    assert Notification.objects.get().message == "Pilot deleted permanently"


def test_episode_deleted_event_carries_id_and_title(api_client_for, team, episode):
    api_client_for(team["editor"]).delete(f"/api/v1/episodes/{episode.id}/")
    [event] = events_by_name("episode_deleted")
    assert event.streams == ["episodes", f"episode:{episode.id}"]
    assert event.data == {
        "episode_id": episode.id,
        "title": "Pilot",
        "actor": {"id": team["editor"].id, "username": "ed"},
    }


def test_compositions_deleted_with_their_episode_are_not_logged_one_by_one(
    api_client_for, team, composition
):
    api_client_for(team["editor"]).delete(f"/api/v1/episodes/{composition.episode_id}/")
    assert actions() == ["deleted_episode"]
    assert not Event.objects.filter(event__startswith="composition_").exists()


def test_a_queryset_delete_logs_each_episode_once_and_no_composition(team, composition):
    with acting_as(team["editor"]):
        Episode.objects.filter(pk=composition.episode_id).delete()
    assert actions() == ["deleted_episode"]


# --- viewed_episode ---------------------------------------------------------------------------


def test_opening_an_episode_logs_viewed_episode(api_client_for, team, episode):
    response = api_client_for(team["viewer"]).get(f"/api/v1/episodes/{episode.id}/")
    assert response.status_code == 200
    activity = only_activity()
    assert (activity.user, activity.action) == (team["viewer"], "viewed_episode")
    assert (activity.resource_type, activity.resource_id) == ("episode", episode.id)
    assert streams_of("activity_logged") == [["activity"]]


def test_viewed_episode_is_logged_once_per_user_within_the_interval(api_client_for, team, episode):
    client = api_client_for(team["viewer"])
    for _ in range(3):
        client.get(f"/api/v1/episodes/{episode.id}/")
    api_client_for(team["editor"]).get(f"/api/v1/episodes/{episode.id}/")
    assert sorted(Activity.objects.values_list("user__username", flat=True)) == ["ed", "vera"]


def test_viewed_episode_is_logged_again_once_the_interval_has_passed(api_client_for, team, episode):
    client = api_client_for(team["viewer"])
    client.get(f"/api/v1/episodes/{episode.id}/")
    cache.clear()  # what the key's expiry does after VIEWED_EPISODE_INTERVAL
    client.get(f"/api/v1/episodes/{episode.id}/")
    assert actions() == ["viewed_episode", "viewed_episode"]


def test_viewing_notifies_nobody(api_client_for, team, episode):
    api_client_for(team["viewer"]).get(f"/api/v1/episodes/{episode.id}/")
    assert not Notification.objects.exists()


def test_list_endpoints_log_nothing(api_client_for, team, composition):
    client = api_client_for(team["viewer"])
    for path in ("episodes/", "compositions/", "activity/", "notifications/"):
        assert client.get(f"/api/v1/{path}").status_code == 200
    assert not Activity.objects.exists()
    assert not Event.objects.exists()


# --- compositions ---------------------------------------------------------------------------


def test_creating_a_composition_logs_and_announces_it(api_client_for, team, episode):
    response = api_client_for(team["editor"]).post(
        "/api/v1/compositions/", {"episode": episode.id, "name": "Intro", "layout": {"a": 1}}
    )
    assert response.status_code == 201
    composition_id = response.json()["id"]
    activity = only_activity()
    assert (activity.user, activity.action) == (team["editor"], "created_composition")
    assert (activity.resource_type, activity.resource_id) == ("composition", composition_id)
    assert activity.metadata == {"name": "Intro", "episode_id": episode.id}
    [event] = events_by_name("composition_created")
    assert event.streams == [f"episode:{episode.id}", f"composition:{composition_id}"]
    assert event.data == {
        "composition": response.json(),
        "actor": {"id": team["editor"].id, "username": "ed"},
    }
    assert not Notification.objects.exists()


def test_updating_a_composition_lists_its_changed_fields(api_client_for, team, composition):
    response = api_client_for(team["editor"]).patch(
        f"/api/v1/compositions/{composition.id}/", {"name": "Closing", "layout": {"tracks": [1]}}
    )
    assert response.status_code == 200
    activity = only_activity()
    assert activity.action == "updated_composition"
    assert activity.metadata == {
        "name": "Closing",
        "episode_id": composition.episode_id,
        "changed_fields": ["name"],
    }
    [event] = events_by_name("composition_updated")
    assert event.streams == [f"episode:{composition.episode_id}", f"composition:{composition.id}"]


def test_a_layout_changed_in_place_counts_as_a_change(team, composition):
    loaded = Composition.objects.get(pk=composition.pk)
    loaded.layout["tracks"].append(2)
    with acting_as(team["editor"]):
        loaded.save()
    assert only_activity().metadata["changed_fields"] == ["layout"]


def test_patching_a_composition_with_its_values_logs_nothing(api_client_for, team, composition):
    api_client_for(team["editor"]).patch(
        f"/api/v1/compositions/{composition.id}/", {"name": "Opening", "layout": {"tracks": [1]}}
    )
    assert not Activity.objects.exists()
    assert not Event.objects.exists()


def test_deleting_a_composition_logs_and_announces_it(api_client_for, team, composition):
    response = api_client_for(team["editor"]).delete(f"/api/v1/compositions/{composition.id}/")
    assert response.status_code == 204
    activity = only_activity()
    assert (activity.action, activity.resource_id) == ("deleted_composition", composition.id)
    assert activity.metadata == {"name": "Opening", "episode_id": composition.episode_id}
    [event] = events_by_name("composition_deleted")
    assert event.streams == [f"episode:{composition.episode_id}", f"composition:{composition.id}"]
    assert event.data["composition"]["id"] == composition.id


# --- the actor ----------------------------------------------------------------------------------


def test_a_change_made_by_the_system_is_logged_with_no_user(team):
    with acting_as(None):
        episode = episode_services.episode_create(actor=None, **NEW_EPISODE)
    activity = only_activity()
    assert activity.user is None
    assert activity.resource_id == episode.id
    assert events_by_name("episode_created")[0].data["actor"] is None


def test_a_change_made_by_the_system_notifies_everyone_concerned(team):
    with acting_as(None):
        episode_services.episode_create(actor=None, **NEW_EPISODE)
    assert recipients_of("episode_created") == {
        team["admin"].id,
        team["editor"].id,
        team["editor2"].id,
    }


def test_a_system_update_is_announced_as_by_system(team, episode):
    EpisodeSubscription.objects.create(episode=episode, user=team["viewer"])
    with acting_as(None):
        episode_services.episode_update(episode=episode, actor=None, title="Nightly")
    assert Notification.objects.get().message == "Nightly updated by system"
    assert only_activity().user is None


def test_a_change_outside_any_request_is_made_by_the_system(team):
    CompositionFactory(name="Batch")
    assert set(Activity.objects.values_list("user", flat=True)) == {None}


# --- admin -------------------------------------------------------------------------------------


def admin_episode_form(**overrides: object) -> dict[str, object]:
    form = {
        "title": "From admin",
        "season": 4,
        "episode_number": 2,
        "description": "Typed in",
        "air_date": "",
    }
    form.update(overrides)
    return form


def test_an_episode_added_in_the_admin_has_the_same_side_effects(
    admin_site_client, staff_admin, team
):
    response = admin_site_client.post("/admin/episodes/episode/add/", admin_episode_form())
    assert response.status_code == 302
    episode = Episode.objects.get(title="From admin")
    activity = only_activity()
    assert (activity.user, activity.action, activity.resource_id) == (
        staff_admin,
        "created_episode",
        episode.id,
    )
    assert recipients_of("episode_created") == {
        team["admin"].id,
        team["editor"].id,
        team["editor2"].id,
    }
    assert streams_of("episode_created") == [["episodes", "broadcast"]]


def test_an_episode_changed_in_the_admin_logs_the_changed_fields(
    admin_site_client, staff_admin, episode
):
    form = admin_episode_form(title="Pilot", season=1, episode_number=1, description="Edited")
    response = admin_site_client.post(f"/admin/episodes/episode/{episode.id}/change/", form)
    assert response.status_code == 302
    activity = only_activity()
    assert (activity.user, activity.action) == (staff_admin, "updated_episode")
    assert activity.metadata["changed_fields"] == ["description"]
    assert streams_of("episode_updated") == [["episodes", f"episode:{episode.id}"]]


def test_an_episode_saved_unchanged_in_the_admin_logs_nothing(admin_site_client, episode):
    form = admin_episode_form(title="Pilot", season=1, episode_number=1, description="The first")
    admin_site_client.post(f"/admin/episodes/episode/{episode.id}/change/", form)
    assert not Activity.objects.exists()


def test_an_episode_deleted_in_the_admin_has_the_same_side_effects(
    admin_site_client, staff_admin, team, episode
):
    response = admin_site_client.post(
        f"/admin/episodes/episode/{episode.id}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    activity = only_activity()
    assert (activity.user, activity.action) == (staff_admin, "deleted_episode")
    assert recipients_of("episode_deleted") == {team["admin"].id}


def test_an_episode_published_from_the_admin_action_has_the_same_side_effects(
    admin_site_client, staff_admin, team, episode
):
    response = admin_site_client.post(
        "/admin/episodes/episode/",
        {"action": "publish", "_selected_action": [episode.id]},
    )
    assert response.status_code == 302
    activity = only_activity()
    assert (activity.user, activity.action) == (staff_admin, "published_episode")
    assert staff_admin.id not in recipients_of("episode_published")
    assert team["viewer"].id in recipients_of("episode_published")


def test_a_composition_changed_in_the_admin_is_logged(admin_site_client, staff_admin, composition):
    response = admin_site_client.post(
        f"/admin/episodes/composition/{composition.id}/change/",
        {"name": "Renamed in admin", "layout": '{"tracks": [1]}'},
    )
    assert response.status_code == 302
    activity = only_activity()
    assert (activity.user, activity.action) == (staff_admin, "updated_composition")
    assert activity.metadata["changed_fields"] == ["name"]


# --- transactions -------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_a_rolled_back_change_leaves_no_side_effect(team, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        with acting_as(team["editor"]):
            episode_services.episode_create(actor=team["editor"], **NEW_EPISODE)
        raise Boom
    assert not Episode.objects.exists()
    assert not Activity.objects.exists()
    assert not Notification.objects.exists()
    assert not Event.objects.exists()
    assert callbacks == []


def test_a_rolled_back_delete_leaves_no_side_effect(team, episode):
    episode_id = episode.pk
    with pytest.raises(Boom), transaction.atomic():
        with acting_as(team["editor"]):
            episode_services.episode_delete(episode=episode, actor=team["editor"])
        raise Boom
    assert Episode.objects.filter(pk=episode_id).exists()
    assert not Activity.objects.exists()
    assert not Event.objects.exists()


def test_a_committed_change_publishes_its_events_in_order(
    api_client_for, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(team["editor"]).post("/api/v1/episodes/", NEW_EPISODE)
    assert response.status_code == 201
    rows = list(Event.objects.order_by("id"))
    assert rows
    assert all(row.published_at is not None for row in rows)
    assert [row.position for row in rows] == sorted(row.position for row in rows)


def test_a_service_called_outside_a_request_is_attributed_to_its_actor(team):
    episode_services.episode_create(actor=team["editor"], title="Shell", episode_number=77)
    assert only_activity().user == team["editor"]
    assert team["editor"].pk not in recipients_of("episode_created")
