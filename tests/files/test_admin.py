"""The Django admin of files: a filterable list, read-only pages, deletion through the service."""

from __future__ import annotations

import pytest
from django.test import Client

from files.models import FileAsset
from realtime.models import Activity
from tests.factories import UserFactory
from tests.files.conftest import upload_local

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/files/fileasset/"


@pytest.fixture
def staff_admin(db):
    return UserFactory(username="adam", roles=["admins"], is_staff=True)


@pytest.fixture
def admin_site(staff_admin) -> Client:
    client = Client()
    client.force_login(staff_admin)
    return client


@pytest.fixture
def uploaded(editor_client, episode) -> FileAsset:
    body = upload_local(editor_client, episode, b"abc", filename="take.mp4")
    return FileAsset.objects.get(pk=body["id"])


def test_the_list_shows_files(admin_site, uploaded):
    response = admin_site.get(CHANGELIST)
    assert response.status_code == 200
    assert "take.mp4" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "shown"), [("status__exact=uploaded", 1), ("status__exact=pending", 0)]
)
def test_the_list_filters_by_status(admin_site, uploaded, query, shown):
    response = admin_site.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == shown


def test_the_change_page_is_read_only(admin_site, uploaded):
    response = admin_site.get(f"{CHANGELIST}{uploaded.pk}/change/")
    assert response.status_code == 200
    before = FileAsset.objects.values().get(pk=uploaded.pk)
    admin_site.post(f"{CHANGELIST}{uploaded.pk}/change/", {"filename": "renamed.mp4"})
    assert FileAsset.objects.values().get(pk=uploaded.pk) == before


def test_files_cannot_be_added_by_hand(admin_site, db):
    assert admin_site.get(f"{CHANGELIST}add/").status_code == 403


def test_deleting_in_the_admin_logs_deleted_file_by_the_admin(
    admin_site, uploaded, staff_admin, local_storage, django_capture_on_commit_callbacks
):
    path = local_storage / uploaded.storage_key
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_site.post(f"{CHANGELIST}{uploaded.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not FileAsset.objects.exists()
    assert not path.exists()
    activity = Activity.objects.get(action="deleted_file")
    assert activity.user == staff_admin


def test_the_bulk_delete_action_goes_through_the_service(
    admin_site, uploaded, editor_client, episode
):
    other = upload_local(editor_client, episode, b"xyz", filename="two.mp4")
    response = admin_site.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [uploaded.pk, other["id"]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not FileAsset.objects.exists()
    assert Activity.objects.filter(action="deleted_file").count() == 2
