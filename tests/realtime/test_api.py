"""The REST side of the realtime app: activity feed, notifications and missed events."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from realtime import views
from realtime.models import Activity, Event, Notification, OutboxMark
from realtime.selectors import PRUNED_THROUGH

pytestmark = pytest.mark.django_db


def log(user, action: str = "created_episode", resource_type: str = "episode", resource_id=1):
    return Activity.objects.create(
        user=user, action=action, resource_type=resource_type, resource_id=resource_id
    )


def notify(user, message: str = "hello", *, read: bool = False) -> Notification:
    return Notification.objects.create(
        user=user, type="episode_created", message=message, read_at=timezone.now() if read else None
    )


def published(position: int, event: str = "episode_created", user=None, **fields) -> Event:
    streams = [f"user:{user.id}"] if user else ["episodes", "broadcast"]
    return Event.objects.create(
        event=event,
        streams=streams,
        data={"n": position},
        user=user,
        position=position,
        published_at=timezone.now(),
        **fields,
    )


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# --- activity/ ----------------------------------------------------------------------------------


def test_activity_lists_newest_first_as_the_contract_shows(api_client_for, viewer, editor):
    first = log(editor, resource_id=1)
    second = log(None, action="archived_episode", resource_id=2)
    response = api_client_for(viewer).get("/api/v1/activity/")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [second.id, first.id]
    assert body["results"][1] == {
        "id": first.id,
        "user": {"id": editor.id, "username": "ed"},
        "action": "created_episode",
        "resource_type": "episode",
        "resource_id": 1,
        "metadata": {},
        "created_at": first.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert body["results"][0]["user"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("resource_type=composition", ["c1"]),
        ("resource_type=episode&resource_id=2", ["e2"]),
        ("action=deleted_episode", ["e2"]),
    ],
)
def test_activity_filters(api_client_for, viewer, editor, query, expected):
    rows = {
        "e1": log(editor, resource_id=1),
        "e2": log(editor, action="deleted_episode", resource_id=2),
        "c1": log(editor, action="created_composition", resource_type="composition"),
    }
    names = {row.id: name for name, row in rows.items()}
    response = api_client_for(viewer).get(f"/api/v1/activity/?{query}")
    assert response.status_code == 200
    assert [names[row["id"]] for row in response.json()["results"]] == expected


def test_activity_filter_by_user(api_client_for, viewer, editor, admin):
    mine = log(editor)
    log(admin)
    response = api_client_for(viewer).get(f"/api/v1/activity/?user={editor.id}")
    assert [row["id"] for row in response.json()["results"]] == [mine.id]


def test_activity_filter_since(api_client_for, viewer, editor):
    old = log(editor)
    Activity.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    recent = log(editor)
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    response = api_client_for(viewer).get("/api/v1/activity/", {"since": since})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [recent.id]


def test_activity_cursor_pages_cover_every_row_once(api_client_for, viewer, editor):
    ids = [log(editor, resource_id=n).id for n in range(1, 8)]
    client = api_client_for(viewer)
    seen: list[int] = []
    url = "/api/v1/activity/?page_size=3"
    pages = 0
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = path_of(body["next"]) if body["next"] else None
        pages += 1
        assert pages <= 3
    assert seen == sorted(ids, reverse=True)


def test_activity_next_page_keeps_the_filters(api_client_for, viewer, editor):
    wanted = [log(editor, resource_type="composition", resource_id=n).id for n in range(1, 4)]
    log(editor, resource_type="episode")
    client = api_client_for(viewer)
    first = client.get("/api/v1/activity/?resource_type=composition&page_size=2").json()
    second = client.get(path_of(first["next"])).json()
    assert [row["id"] for row in first["results"] + second["results"]] == wanted[::-1]
    assert second["next"] is None


def test_activity_page_does_not_shift_when_rows_arrive(api_client_for, viewer, editor):
    ids = [log(editor, resource_id=n).id for n in range(1, 5)]
    client = api_client_for(viewer)
    first = client.get("/api/v1/activity/?page_size=2").json()
    log(editor, resource_id=99)
    second = client.get(path_of(first["next"])).json()
    assert [row["id"] for row in second["results"]] == [ids[1], ids[0]]


@pytest.mark.parametrize(
    "query",
    [
        "resource_type=nope",
        "resource_id=abc",
        "resource_id=1.5",
        "resource_id=0",
        "resource_id=99999999999999999999999",
        "user=abc",
        "user=-3",
        "since=notadate",
        "page_size=-1",
        "page_size=abc",
        "ordering=id",
        f"action={'x' * 65}",
    ],
)
def test_activity_bad_parameter_is_a_400(api_client_for, viewer, query):
    response = api_client_for(viewer).get(f"/api/v1/activity/?{query}")
    assert response.status_code == 400, response.content


def test_activity_unreadable_cursor_is_a_404_as_in_drf(api_client_for, viewer):
    assert api_client_for(viewer).get("/api/v1/activity/?cursor=garbage").status_code == 404


def test_activity_is_refused_to_a_user_without_a_role(api_client_for, outsider):
    log(None)
    assert api_client_for(outsider).get("/api/v1/activity/").status_code == 403


def test_activity_is_refused_to_anonymous(anon_client):
    assert anon_client.get("/api/v1/activity/").status_code == 403


def test_activity_is_read_only(api_client_for, admin):
    response = api_client_for(admin).post("/api/v1/activity/", {"action": "x"})
    assert response.status_code == 405


# --- notifications/ -----------------------------------------------------------------------------


def test_notifications_lists_only_the_callers_own(api_client_for, viewer, editor):
    mine = [notify(viewer, "one"), notify(viewer, "two")]
    notify(editor, "not yours")
    response = api_client_for(viewer).get("/api/v1/notifications/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [mine[1].id, mine[0].id]
    assert set(results[0]) == {
        "id",
        "type",
        "message",
        "data",
        "read_at",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(("value", "expected"), [("true", ["new"]), ("false", ["old"])])
def test_notifications_filter_unread(api_client_for, viewer, value, expected):
    notify(viewer, "old", read=True)
    notify(viewer, "new")
    response = api_client_for(viewer).get(f"/api/v1/notifications/?unread={value}")
    assert [row["message"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize("query", ["unread=maybe", "unread=2", "page_size=-1", "page_size=x"])
def test_notifications_bad_parameter_is_a_400(api_client_for, viewer, query):
    assert api_client_for(viewer).get(f"/api/v1/notifications/?{query}").status_code == 400


def test_notifications_cursor_pages_cover_every_row_once(api_client_for, viewer):
    ids = [notify(viewer, str(n)).id for n in range(5)]
    client = api_client_for(viewer)
    first = client.get("/api/v1/notifications/?page_size=2").json()
    second = client.get(path_of(first["next"])).json()
    third = client.get(path_of(second["next"])).json()
    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert seen == ids[::-1]
    assert third["next"] is None


def test_unread_count_counts_only_the_callers_unread(api_client_for, viewer, editor):
    notify(viewer)
    notify(viewer)
    notify(viewer, read=True)
    notify(editor)
    response = api_client_for(viewer).get("/api/v1/notifications/unread-count/")
    assert response.status_code == 200
    assert response.json() == {"count": 2}


def test_read_marks_the_notification_read(api_client_for, viewer):
    notification = notify(viewer)
    response = api_client_for(viewer).post(f"/api/v1/notifications/{notification.id}/read/")
    assert response.status_code == 200
    assert response.json()["id"] == notification.id
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_read_is_idempotent(api_client_for, viewer):
    notification = notify(viewer)
    client = api_client_for(viewer)
    first = client.post(f"/api/v1/notifications/{notification.id}/read/")
    second = client.post(f"/api/v1/notifications/{notification.id}/read/")
    assert second.status_code == 200
    assert second.json() == first.json()


def test_read_pushes_notifications_read_once(api_client_for, viewer):
    notification = notify(viewer)
    notify(viewer)
    client = api_client_for(viewer)
    client.post(f"/api/v1/notifications/{notification.id}/read/")
    client.post(f"/api/v1/notifications/{notification.id}/read/")
    [event] = Event.objects.filter(event="notifications_read")
    assert event.streams == [f"user:{viewer.id}"]
    assert event.user_id == viewer.id
    assert event.data == {"ids": [notification.id], "unread_count": 1}


def test_reading_another_users_notification_is_a_404(api_client_for, viewer, editor):
    theirs = notify(editor)
    response = api_client_for(viewer).post(f"/api/v1/notifications/{theirs.id}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_reading_an_unknown_notification_is_a_404(api_client_for, viewer):
    assert api_client_for(viewer).post("/api/v1/notifications/999999/read/").status_code == 404


def test_read_all_marks_only_the_callers_unread(api_client_for, viewer, editor):
    notify(viewer)
    notify(viewer)
    notify(viewer, read=True)
    theirs = notify(editor)
    response = api_client_for(viewer).post("/api/v1/notifications/read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread_count": 0}
    assert not Notification.objects.filter(user=viewer, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_is_idempotent(api_client_for, viewer):
    notify(viewer)
    client = api_client_for(viewer)
    client.post("/api/v1/notifications/read-all/")
    response = client.post("/api/v1/notifications/read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 0, "unread_count": 0}


def test_read_all_pushes_one_notifications_read_event(api_client_for, viewer):
    ids = [notify(viewer).id, notify(viewer).id]
    client = api_client_for(viewer)
    client.post("/api/v1/notifications/read-all/")
    client.post("/api/v1/notifications/read-all/")
    [event] = Event.objects.filter(event="notifications_read")
    assert event.streams == [f"user:{viewer.id}"]
    assert event.data == {"ids": ids, "unread_count": 0}


def test_read_all_marks_more_notifications_than_the_database_takes_parameters(
    api_client_for, viewer
):
    if connection.vendor != "sqlite":
        pytest.skip("lowering the parameter limit is a SQLite feature")
    Notification.objects.bulk_create(
        Notification(user=viewer, type="t", message=str(n)) for n in range(150)
    )
    client = api_client_for(viewer)
    client.get("/api/v1/notifications/unread-count/")  # log in before the limit is lowered
    connection.ensure_connection()
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    try:
        response = client.post("/api/v1/notifications/read-all/")
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    assert response.status_code == 200
    assert response.json() == {"marked": 150, "unread_count": 0}
    assert len(Event.objects.get(event="notifications_read").data["ids"]) == 150


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/notifications/"),
        ("get", "/api/v1/notifications/unread-count/"),
        ("post", "/api/v1/notifications/read-all/"),
    ],
)
def test_notifications_are_refused_without_a_role(api_client_for, outsider, method, path):
    assert getattr(api_client_for(outsider), method)(path).status_code == 403


def test_notifications_are_refused_to_anonymous(anon_client):
    assert anon_client.get("/api/v1/notifications/").status_code == 403


# --- events/ -------------------------------------------------------------------------------------


def test_events_returns_public_and_own_events_in_position_order(api_client_for, viewer, editor):
    published(3)
    published(1)
    published(2, "notification_created", user=viewer)
    published(4, "notification_created", user=editor)
    Event.objects.create(event="episode_created", streams=["episodes"], data={})
    response = api_client_for(viewer).get("/api/v1/events/?since=0")
    assert response.status_code == 200
    body = response.json()
    assert [frame["id"] for frame in body["events"]] == [1, 2, 3]
    assert body["last_event_id"] == 3
    assert body["has_more"] is False


def test_events_frames_look_like_websocket_frames(api_client_for, viewer):
    row = published(5)
    frame = api_client_for(viewer).get("/api/v1/events/?since=0").json()["events"][0]
    assert frame == {
        "type": "event",
        "id": 5,
        "event": "episode_created",
        "stream": "episodes",
        "data": {"n": 5},
        "timestamp": row.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_events_since_skips_what_the_client_saw(api_client_for, viewer):
    for position in range(1, 5):
        published(position)
    body = api_client_for(viewer).get("/api/v1/events/?since=2").json()
    assert [frame["id"] for frame in body["events"]] == [3, 4]


def test_events_with_nothing_new_keeps_the_clients_id(api_client_for, viewer):
    published(1)
    body = api_client_for(viewer).get("/api/v1/events/?since=7").json()
    assert body == {"events": [], "last_event_id": 7, "has_more": False}


def test_events_page_through_with_has_more(api_client_for, viewer, monkeypatch):
    monkeypatch.setattr(views, "EVENTS_PAGE", 2)
    for position in range(1, 6):
        published(position)
    client = api_client_for(viewer)
    seen: list[int] = []
    since = 0
    for _ in range(3):
        body = client.get(f"/api/v1/events/?since={since}").json()
        seen += [frame["id"] for frame in body["events"]]
        since = body["last_event_id"]
        if not body["has_more"]:
            break
    assert seen == [1, 2, 3, 4, 5]
    assert body["has_more"] is False


@pytest.mark.parametrize("query", ["", "since=", "since=-1", "since=abc", "since=1.5"])
def test_events_bad_since_is_a_400(api_client_for, viewer, query):
    response = api_client_for(viewer).get(f"/api/v1/events/?{query}")
    assert response.status_code == 400
    assert "since" in response.json()


def test_events_older_than_the_pruned_mark_are_gone(api_client_for, viewer):
    OutboxMark.objects.create(name=PRUNED_THROUGH, position=10)
    published(11)
    response = api_client_for(viewer).get("/api/v1/events/?since=9")
    assert response.status_code == 410
    assert response.json()["code"] == "too_old"


def test_events_from_the_pruned_mark_on_are_served(api_client_for, viewer):
    OutboxMark.objects.create(name=PRUNED_THROUGH, position=10)
    published(11)
    response = api_client_for(viewer).get("/api/v1/events/?since=10")
    assert response.status_code == 200
    assert [frame["id"] for frame in response.json()["events"]] == [11]


def test_events_are_refused_without_a_role(api_client_for, outsider):
    assert api_client_for(outsider).get("/api/v1/events/?since=0").status_code == 403


def test_events_are_refused_to_anonymous(anon_client):
    assert anon_client.get("/api/v1/events/?since=0").status_code == 403
