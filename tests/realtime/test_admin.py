"""Admin of the realtime app: activity and events are read-only lists with filters."""

from __future__ import annotations

import pytest
from django.utils import timezone

from realtime.models import Activity, Event, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(editor, viewer) -> dict[str, object]:
    return {
        "created": Activity.objects.create(
            user=editor, action="created_episode", resource_type="episode", resource_id=1
        ),
        "composed": Activity.objects.create(
            user=None, action="created_composition", resource_type="composition", resource_id=2
        ),
        "viewed": Activity.objects.create(
            user=viewer, action="viewed_episode", resource_type="episode", resource_id=1
        ),
        "event": Event.objects.create(
            event="episode_created",
            streams=["episodes"],
            data={},
            position=1,
            published_at=timezone.now(),
        ),
        "pushed": Event.objects.create(
            event="notification_created", streams=[f"user:{viewer.id}"], data={}, user=viewer
        ),
        "notification": Notification.objects.create(
            user=viewer, type="episode_created", message="New episode: Pilot"
        ),
    }


def listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def test_activity_changelist_lists_the_activity(admin_site_client, rows):
    response = admin_site_client.get("/admin/realtime/activity/")
    assert response.status_code == 200
    assert listed(response) == {
        rows["created"].pk,
        rows["composed"].pk,
        rows["viewed"].pk,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [("action=created_episode", "created"), ("resource_type=composition", "composed")],
)
def test_activity_changelist_filters(admin_site_client, rows, query, expected):
    response = admin_site_client.get(f"/admin/realtime/activity/?{query}")
    assert response.status_code == 200
    assert listed(response) == {rows[expected].pk}


def test_activity_changelist_searches_by_username(admin_site_client, rows):
    response = admin_site_client.get("/admin/realtime/activity/?q=vera")
    assert listed(response) == {rows["viewed"].pk}


def test_activity_cannot_be_added(admin_site_client, rows):
    assert admin_site_client.get("/admin/realtime/activity/add/").status_code == 403


def test_activity_can_be_viewed_but_not_changed(admin_site_client, rows):
    url = f"/admin/realtime/activity/{rows['created'].pk}/change/"
    assert admin_site_client.get(url).status_code == 200
    response = admin_site_client.post(url, {"action": "forged"})
    assert response.status_code == 403
    rows["created"].refresh_from_db()
    assert rows["created"].action == "created_episode"


def test_activity_cannot_be_deleted(admin_site_client, rows):
    url = f"/admin/realtime/activity/{rows['created'].pk}/delete/"
    assert admin_site_client.post(url, {"post": "yes"}).status_code == 403
    assert Activity.objects.filter(pk=rows["created"].pk).exists()


def test_even_a_superuser_cannot_add_activity(client, django_user_model, rows):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    assert client.get("/admin/realtime/activity/add/").status_code == 403


def test_event_changelist_lists_and_filters_events(admin_site_client, rows):
    response = admin_site_client.get("/admin/realtime/event/")
    assert response.status_code == 200
    assert listed(response) == {rows["event"].pk, rows["pushed"].pk}
    filtered = admin_site_client.get("/admin/realtime/event/?event=notification_created")
    assert listed(filtered) == {rows["pushed"].pk}


def test_events_cannot_be_added_or_deleted(admin_site_client, rows):
    assert admin_site_client.get("/admin/realtime/event/add/").status_code == 403
    url = f"/admin/realtime/event/{rows['event'].pk}/delete/"
    assert admin_site_client.post(url, {"post": "yes"}).status_code == 403


def test_notification_changelist_lists_and_filters(admin_site_client, rows):
    response = admin_site_client.get("/admin/realtime/notification/?type=episode_created")
    assert response.status_code == 200
    assert listed(response) == {rows["notification"].pk}


def test_realtime_admin_is_refused_to_staff_without_a_role(client, django_user_model, rows):
    client.force_login(django_user_model.objects.create_user("temp", password="x", is_staff=True))
    assert client.get("/admin/realtime/activity/").status_code == 403
