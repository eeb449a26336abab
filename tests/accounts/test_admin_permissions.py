"""The admin follows the roles: permissions synced to the role groups after migrate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.admin_permissions import sync_role_permissions
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


def codenames(group: str, app_label: str) -> set[str]:
    return set(
        Group.objects.get(name=group)
        .permissions.filter(content_type__app_label=app_label)
        .values_list("codename", flat=True)
    )


def test_viewers_may_only_view_episodes():
    assert codenames("viewers", "episodes") == {
        "view_episode",
        "view_composition",
        "view_episodesubscription",
    }


def test_editors_may_add_change_and_delete_episodes():
    assert {"add_episode", "change_episode", "delete_episode", "view_episode"} <= codenames(
        "editors", "episodes"
    )
    assert {"add_composition", "change_composition", "delete_composition"} <= codenames(
        "editors", "episodes"
    )


def test_nobody_may_edit_the_realtime_records():
    for group in ("viewers", "editors", "admins"):
        assert codenames(group, "realtime") == {
            "view_activity",
            "view_event",
            "view_notification",
        }


def test_a_staff_viewer_sees_but_cannot_change_episodes_in_the_admin(client, viewer):
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    episode = EpisodeFactory()
    client.force_login(viewer)
    page = client.get(f"/admin/episodes/episode/{episode.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.get("/admin/episodes/episode/add/").status_code == 403


def test_sync_restores_removed_permissions():
    editors = Group.objects.get(name="editors")
    editors.permissions.clear()
    sync_role_permissions()
    assert "change_episode" in codenames("editors", "episodes")
