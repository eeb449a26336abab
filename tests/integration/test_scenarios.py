"""The seed's episode scenarios end to end over REST: what each logs, notifies and emits.

An editor acts while an admin, another editor and a viewer are present. Each scenario is
checked against CONTRACT.md: the Activity row, the Notification rows (exact recipients and
message), and the Event rows with their streams; then, once relayed, that every event has
its position and was published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Max
from rest_framework.response import Response

from realtime.models import Activity, Event, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Pilot"
NEW_TITLE = "Pilot (final cut)"


@dataclass
class People:
    ed: Any  # the editor who acts
    eve: Any  # another editor
    ada: Any  # an admin
    vera: Any  # a viewer


@pytest.fixture
def people() -> People:
    return People(
        ed=UserFactory(username="ed", roles=["editors"]),
        eve=UserFactory(username="eve", roles=["editors"]),
        ada=UserFactory(username="ada", roles=["admins"]),
        vera=UserFactory(username="vera", roles=["viewers"]),
    )


@dataclass
class Outcome:
    """The response to one request and the rows it wrote."""

    response: Response
    activities: list[Activity]
    notifications: list[Notification]
    events: list[Event]


def _after(model: type, top: int | None) -> list[Any]:
    return list(model.objects.filter(id__gt=top or 0).order_by("id"))


def _perform(request: Callable[[], Response]) -> Outcome:
    tops = {
        model: model.objects.aggregate(top=Max("id"))["top"]
        for model in (Activity, Notification, Event)
    }
    response = request()
    return Outcome(
        response=response,
        activities=_after(Activity, tops[Activity]),
        notifications=_after(Notification, tops[Notification]),
        events=_after(Event, tops[Event]),
    )


def _actor(user) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username}


def _notified(outcome: Outcome) -> list[tuple[str, str, str]]:
    return sorted((row.user.username, row.type, row.message) for row in outcome.notifications)


def _emitted(outcome: Outcome) -> list[tuple[str, tuple[str, ...], int | None]]:
    return sorted((row.event, tuple(row.streams), row.user_id) for row in outcome.events)


def _notification_events(*users) -> list[tuple[str, tuple[str, ...], int]]:
    return [("notification_created", (f"user:{user.pk}",), user.pk) for user in users]


@pytest.fixture
def ed_client(people, api_client_for):
    return api_client_for(people.ed)


@pytest.fixture
def episode_id(ed_client) -> int:
    response = ed_client.post("/api/v1/episodes/", {"title": TITLE, "episode_number": 1})
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def created(people, ed_client) -> Outcome:
    return _perform(
        lambda: ed_client.post(
            "/api/v1/episodes/", {"title": TITLE, "episode_number": 1, "season": 2}
        )
    )


@pytest.fixture
def updated(people, ed_client, api_client_for, episode_id) -> Outcome:
    subscribed = api_client_for(people.eve).put(f"/api/v1/episodes/{episode_id}/subscription/")
    assert subscribed.status_code == 200
    return _perform(
        lambda: ed_client.patch(f"/api/v1/episodes/{episode_id}/", {"title": NEW_TITLE})
    )


@pytest.fixture
def published(ed_client, episode_id) -> Outcome:
    return _perform(lambda: ed_client.post(f"/api/v1/episodes/{episode_id}/publish/"))


@pytest.fixture
def deleted(ed_client, episode_id) -> Outcome:
    return _perform(lambda: ed_client.delete(f"/api/v1/episodes/{episode_id}/"))


# --- Create ---------------------------------------------------------------------------------


def test_creating_an_episode_logs_created_episode(people, created):
    episode_id = created.response.json()["id"]

    assert created.response.status_code == 201
    assert [
        (a.action, a.user, a.resource_type, a.resource_id, a.metadata) for a in created.activities
    ] == [("created_episode", people.ed, "episode", episode_id, {"title": TITLE})]


def test_creating_an_episode_notifies_admins_and_the_other_editors(created):
    assert _notified(created) == [
        ("ada", "episode_created", f"New episode: {TITLE}"),
        ("eve", "episode_created", f"New episode: {TITLE}"),
    ]


def test_creating_an_episode_emits_its_events_on_the_contract_streams(people, created):
    assert _emitted(created) == sorted(
        [
            ("activity_logged", ("activity",), None),
            ("episode_created", ("episodes", "broadcast"), None),
            *_notification_events(people.eve, people.ada),
        ]
    )
    (event,) = [row for row in created.events if row.event == "episode_created"]
    assert event.data["episode"] == created.response.json()
    assert event.data["actor"] == _actor(people.ed)


# --- Update ---------------------------------------------------------------------------------


def test_updating_an_episode_logs_the_changed_fields(people, updated, episode_id):
    metadata = {"title": NEW_TITLE, "changed_fields": ["title"]}

    assert updated.response.status_code == 200
    assert [(a.action, a.user, a.resource_id, a.metadata) for a in updated.activities] == [
        ("updated_episode", people.ed, episode_id, metadata)
    ]


def test_updating_an_episode_notifies_its_subscribers_but_the_actor(updated):
    assert _notified(updated) == [("eve", "episode_updated", f"{NEW_TITLE} updated by ed")]


def test_updating_an_episode_emits_its_events_on_the_contract_streams(people, updated, episode_id):
    assert _emitted(updated) == sorted(
        [
            ("activity_logged", ("activity",), None),
            ("episode_updated", ("episodes", f"episode:{episode_id}"), None),
            ("revision_saved", (f"editing:episode:{episode_id}",), None),
            *_notification_events(people.eve),
        ]
    )
    (event,) = [row for row in updated.events if row.event == "episode_updated"]
    assert event.data["changed_fields"] == ["title"]
    assert event.data["episode"]["title"] == NEW_TITLE
    assert event.data["actor"] == _actor(people.ed)


# --- Publish --------------------------------------------------------------------------------


def test_publishing_an_episode_logs_published_episode(people, published, episode_id):
    assert published.response.status_code == 200
    assert published.response.json()["status"] == "published"
    assert [(a.action, a.user, a.resource_id, a.metadata) for a in published.activities] == [
        ("published_episode", people.ed, episode_id, {"title": TITLE})
    ]


def test_publishing_an_episode_notifies_every_other_user(published):
    assert _notified(published) == [
        ("ada", "episode_published", f"{TITLE} published"),
        ("eve", "episode_published", f"{TITLE} published"),
        ("vera", "episode_published", f"{TITLE} published"),
    ]


def test_publishing_an_episode_emits_its_events_on_the_contract_streams(
    people, published, episode_id
):
    assert _emitted(published) == sorted(
        [
            ("activity_logged", ("activity",), None),
            ("episode_published", ("episodes", f"episode:{episode_id}", "broadcast"), None),
            ("revision_saved", (f"editing:episode:{episode_id}",), None),
            *_notification_events(people.eve, people.ada, people.vera),
        ]
    )
    (event,) = [row for row in published.events if row.event == "episode_published"]
    assert event.data["episode"]["status"] == "published"
    assert event.data["actor"] == _actor(people.ed)


# --- Delete ---------------------------------------------------------------------------------


def test_deleting_an_episode_logs_deleted_episode(people, deleted, episode_id):
    assert deleted.response.status_code == 204
    assert [(a.action, a.user, a.resource_id, a.metadata) for a in deleted.activities] == [
        ("deleted_episode", people.ed, episode_id, {"title": TITLE})
    ]


def test_deleting_an_episode_notifies_the_admins(deleted):
    assert _notified(deleted) == [("ada", "episode_deleted", f"{TITLE} deleted permanently")]


def test_deleting_an_episode_emits_its_events_on_the_contract_streams(people, deleted, episode_id):
    assert _emitted(deleted) == sorted(
        [
            ("activity_logged", ("activity",), None),
            ("episode_deleted", ("episodes", f"episode:{episode_id}"), None),
            *_notification_events(people.ada),
        ]
    )
    (event,) = [row for row in deleted.events if row.event == "episode_deleted"]
    assert event.data == {"episode_id": episode_id, "title": TITLE, "actor": _actor(people.ed)}


# --- Every scenario -------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["created", "updated", "published", "deleted"])
def test_every_event_of_a_scenario_is_numbered_and_published_after_commit(request, scenario):
    outcome: Outcome = request.getfixturevalue(scenario)

    assert outcome.events
    assert all(row.position is not None for row in outcome.events)
    assert all(row.published_at is not None for row in outcome.events)


@pytest.mark.parametrize("scenario", ["created", "updated", "published", "deleted"])
def test_each_notification_has_its_own_event_for_its_recipient(request, scenario):
    outcome: Outcome = request.getfixturevalue(scenario)

    pushed = sorted(
        (row.user_id, row.data["notification"]["id"], row.data["notification"]["message"])
        for row in outcome.events
        if row.event == "notification_created"
    )
    assert pushed == sorted((row.user_id, row.pk, row.message) for row in outcome.notifications)
