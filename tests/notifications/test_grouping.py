"""Repeated updates of an episode fold into the recipient's unread notification of it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from common.actor import acting_as
from realtime.grouping import episode_update_message
from realtime.models import Notification
from tests.notifications.conftest import events_named, follow, notifications_of

pytestmark = pytest.mark.django_db


def ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


def test_five_updates_fold_into_one_notification_with_a_count_of_five(edit, ana, bo, episode):
    follow(episode, bo)
    for n in range(5):
        edit(ana, episode, title=f"Take {n}")
    [notification] = notifications_of(bo)
    assert notification.message == "Take 4 updated by ana"
    assert notification.data["count"] == 5
    assert notification.data["last_actor"] == ref(ana)
    assert notification.data["actor"] == ref(ana)
    assert notification.data["actors"] == [ref(ana)]
    assert notification.data["title"] == "Take 4"


def test_each_fold_pushes_one_notification_updated_and_no_new_notification_created(
    edit, ana, bo, episode
):
    follow(episode, bo)
    for n in range(5):
        edit(ana, episode, title=f"Take {n}")
    created = events_named("notification_created", user=bo)
    updated = events_named("notification_updated", user=bo)
    assert len(created) == 1
    assert [event.data["notification"]["data"]["count"] for event in updated] == [2, 3, 4, 5]
    assert {event.data["notification"]["id"] for event in updated} == {
        created[0].data["notification"]["id"]
    }
    assert {tuple(event.streams) for event in updated} == {(f"user:{bo.pk}",)}
    assert [event.data["unread_count"] for event in updated] == [1, 1, 1, 1]


def test_the_updated_event_carries_the_notification_as_rest_lists_it(
    api_client_for, edit, ana, bo, episode
):
    follow(episode, bo)
    edit(ana, episode, title="One")
    edit(ana, episode, title="Two")
    [event] = events_named("notification_updated", user=bo)
    listed = api_client_for(bo).get("/api/v1/notifications/").json()["results"]
    assert event.data == {"notification": listed[0], "unread_count": 1}
    created = events_named("notification_created", user=bo)[0]
    assert set(created.data["notification"]) == set(listed[0])


def test_distinct_actors_are_named_last_first_and_counted(edit, ana, ben, boss, bo, episode):
    follow(episode, bo)
    edit(ana, episode, title="A")
    edit(ben, episode, title="B")
    edit(ana, episode, title="C")
    [notification] = notifications_of(bo)
    assert notification.message == "C updated by ana and 1 other"
    edit(boss, episode, title="D")
    notification.refresh_from_db()
    assert notification.message == "D updated by boss and 2 others"
    assert notification.data["count"] == 4
    assert notification.data["actors"] == [ref(boss), ref(ana), ref(ben)]
    assert notification.data["last_actor"] == ref(boss)


def test_the_changed_fields_of_every_folded_update_are_kept(edit, ana, bo, episode):
    follow(episode, bo)
    edit(ana, episode, title="New")
    edit(ana, episode, description="Words")
    edit(ana, episode, title="Newer")
    [notification] = notifications_of(bo)
    assert notification.data["changed_fields"] == ["title", "description"]


def test_an_update_after_the_notification_was_read_starts_a_new_one(
    api_client_for, edit, ana, bo, episode
):
    follow(episode, bo)
    edit(ana, episode, title="One")
    edit(ana, episode, title="Two")
    [first] = notifications_of(bo)
    assert api_client_for(bo).post(f"/api/v1/notifications/{first.pk}/read/").status_code == 200
    edit(ana, episode, title="Three")
    rows = notifications_of(bo)
    assert [row.data["count"] for row in rows] == [2, 1]
    assert rows[1].message == "Three updated by ana"
    assert rows[1].read_at is None


def test_updates_of_another_episode_do_not_fold_in(edit, ana, bo, episode, other_episode):
    follow(episode, bo)
    follow(other_episode, bo)
    edit(ana, episode, title="One")
    edit(ana, other_episode, title="Two")
    assert [row.data["count"] for row in notifications_of(bo)] == [1, 1]


def test_a_fold_is_per_recipient(edit, ana, bo, cy, episode):
    follow(episode, bo)
    edit(ana, episode, title="One")
    follow(episode, cy)
    edit(ana, episode, title="Two")
    assert [row.data["count"] for row in notifications_of(bo)] == [2]
    assert [row.data["count"] for row in notifications_of(cy)] == [1]
    assert len(events_named("notification_created", user=cy)) == 1


def test_other_types_never_fold(api_client_for, ana, bo, episode):
    client = api_client_for(ana)
    client.post(f"/api/v1/episodes/{episode.pk}/publish/")
    client.post(f"/api/v1/episodes/{episode.pk}/archive/")
    client.post(f"/api/v1/episodes/{episode.pk}/publish/")
    assert [row.type for row in notifications_of(bo)] == ["episode_published"] * 2


def test_a_folded_notification_rises_to_the_top_of_the_list(
    api_client_for, edit, ana, bo, episode, other_episode
):
    follow(episode, bo)
    follow(other_episode, bo)
    edit(ana, episode, title="First")
    edit(ana, other_episode, title="Other")
    edit(ana, episode, title="First again")
    listed = api_client_for(bo).get("/api/v1/notifications/").json()["results"]
    assert [row["message"] for row in listed] == [
        "First again updated by ana",
        "Other updated by ana",
    ]
    assert listed[0]["updated_at"] > listed[0]["created_at"]
    assert listed[1]["updated_at"] == listed[1]["created_at"]


def test_the_list_pages_by_the_last_change(api_client_for, bo):
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            user=bo,
            type="episode_created",
            message=f"n{n}",
            created_at=now,
            updated_at=now - timezone.timedelta(minutes=n % 3),
        )
        for n in range(6)
    )
    client = api_client_for(bo)
    first = client.get("/api/v1/notifications/?page_size=4").json()
    second = client.get(first["next"]).json()
    messages = [row["message"] for row in first["results"] + second["results"]]
    assert messages == ["n3", "n0", "n4", "n1", "n5", "n2"]


def test_folding_leaves_the_unread_count_alone(api_client_for, edit, ana, bo, episode):
    follow(episode, bo)
    for n in range(3):
        edit(ana, episode, title=f"Take {n}")
    count = api_client_for(bo).get("/api/v1/notifications/unread-count/").json()
    assert count == {"count": 1}


def test_an_update_by_the_system_folds_as_system(ana, bo, episode):
    follow(episode, bo)
    with acting_as(None):
        episode.title = "Nightly"
        episode.save()
    with acting_as(ana):
        episode.title = "Daily"
        episode.save()
    [notification] = notifications_of(bo)
    assert notification.message == "Daily updated by ana and 1 other"
    assert notification.data["actors"] == [ref(ana), None]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["ana"], "Pilot updated by ana"),
        (["ana", "ben"], "Pilot updated by ana and 1 other"),
        (["ana", "ben", "cy", "dee"], "Pilot updated by ana and 3 others"),
    ],
)
def test_the_message_names_the_last_actor_and_counts_the_others(names, message):
    actors = [{"id": n, "username": name} for n, name in enumerate(names)]
    assert episode_update_message("Pilot", actors) == message


def test_a_message_is_cut_to_the_column(ana):
    actors = [{"id": 1, "username": "ana"}, {"id": 2, "username": "ben"}]
    assert len(episode_update_message("T" * 600, actors)) == 500
