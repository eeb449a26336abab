"""The files API on local storage: declaring an upload, completing, reading, listing, deleting."""

from __future__ import annotations

import hashlib

import pytest

from files.models import FileAsset
from jobs.models import Job
from tests.factories import EpisodeFactory
from tests.files.conftest import FILES, declare, stored_file, upload_local

pytestmark = pytest.mark.django_db

FILE_FIELDS = {
    "id",
    "episode",
    "filename",
    "content_type",
    "size",
    "checksum_sha256",
    "status",
    "metadata",
    "url",
    "created_at",
}
DATA = b"hello world"


# --- Declaring an upload ---------------------------------------------------------------------


def test_declaring_an_upload_returns_a_pending_file_and_where_to_put_its_bytes(
    editor_client, episode
):
    response = declare(editor_client, episode, filename="take1.mp4", size=11)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == FILE_FIELDS | {"upload"}
    assert body["episode"] == episode.pk
    assert (body["filename"], body["content_type"], body["size"]) == ("take1.mp4", "video/mp4", 11)
    assert (body["status"], body["url"], body["checksum_sha256"]) == ("pending", None, "")
    assert body["upload"] == {
        "method": "PUT",
        "url": f"http://testserver/api/v1/files/{body['id']}/upload/",
        "headers": {"Content-Type": "video/mp4"},
    }


def test_declaring_an_upload_stores_it_under_a_key_the_server_made(editor_client, episode, editor):
    body = declare(editor_client, episode, filename="take1.mp4").json()
    file = stored_file(body["id"])
    prefix, episode_id, folder, name = file.storage_key.split("/")
    assert (prefix, episode_id, name) == ("episodes", str(episode.pk), "take1.mp4")
    assert len(folder) == 32
    assert file.created_by == editor


def test_two_uploads_of_the_same_name_get_different_keys(editor_client, episode):
    first = declare(editor_client, episode, filename="same.mp4").json()["id"]
    second = declare(editor_client, episode, filename="same.mp4").json()["id"]
    assert stored_file(first).storage_key != stored_file(second).storage_key


def test_the_content_type_is_stored_in_lower_case(editor_client, episode):
    response = declare(editor_client, episode, content_type=" Video/MP4 ")
    assert response.json()["content_type"] == "video/mp4"


@pytest.mark.parametrize("content_type", ["application/pdf", "text/html", "application/x-sh"])
def test_a_type_outside_the_allowed_ones_is_a_400_naming_content_type(
    editor_client, episode, content_type
):
    response = declare(editor_client, episode, content_type=content_type)
    assert response.status_code == 400
    assert list(response.json()) == ["content_type"]
    assert "not allowed" in response.json()["content_type"][0]


@pytest.mark.parametrize(
    "content_type", ["video", "video/", "/mp4", "video/mp4; codecs=avc1", "video/mp4\r\nX: y", ""]
)
def test_a_malformed_content_type_is_a_400_naming_content_type(
    editor_client, episode, content_type
):
    response = declare(editor_client, episode, content_type=content_type)
    assert response.status_code == 400
    assert list(response.json()) == ["content_type"]


def test_files_allowed_types_setting_decides_what_is_allowed(editor_client, episode, settings):
    settings.FILES_ALLOWED_TYPES = ["application/pdf"]
    assert declare(editor_client, episode, content_type="application/pdf").status_code == 201
    assert declare(editor_client, episode, content_type="video/mp4").status_code == 400


def test_a_size_over_files_max_size_is_a_400_naming_size(editor_client, episode, settings):
    settings.FILES_MAX_SIZE = 1000
    response = declare(editor_client, episode, size=1001)
    assert response.status_code == 400
    assert response.json() == {"size": ["A file may hold at most 1000 bytes."]}


def test_a_size_of_files_max_size_is_allowed(editor_client, episode, settings):
    settings.FILES_MAX_SIZE = 1000
    assert declare(editor_client, episode, size=1000).status_code == 201


def test_the_default_limit_is_five_gibibytes(editor_client, episode):
    assert declare(editor_client, episode, size=5 * 1024**3).status_code == 201
    assert declare(editor_client, episode, size=5 * 1024**3 + 1).status_code == 400


@pytest.mark.parametrize("size", [0, -1, 1.5, "many", None, 2**63])
def test_a_size_that_is_not_a_positive_whole_number_is_a_400(editor_client, episode, size):
    response = declare(editor_client, episode, size=size)
    assert response.status_code == 400
    assert list(response.json()) == ["size"]


def test_an_unknown_episode_is_a_400_naming_episode(editor_client, episode):
    response = editor_client.post(
        FILES,
        {"episode": 987654, "filename": "a.mp4", "content_type": "video/mp4", "size": 1},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["episode"]


def test_missing_fields_are_each_named(editor_client):
    response = editor_client.post(FILES, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"episode", "filename", "content_type", "size"}


def test_a_refused_declaration_writes_no_row(editor_client, episode):
    declare(editor_client, episode, content_type="text/html")
    assert not FileAsset.objects.exists()


# --- Completing ------------------------------------------------------------------------------


def test_completing_an_upload_marks_it_uploaded_with_its_checksum(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    assert body["status"] == "uploaded"
    assert body["checksum_sha256"] == hashlib.sha256(DATA).hexdigest()
    assert body["size"] == len(DATA)
    assert stored_file(body["id"]).uploaded_at is not None


def test_completing_queues_a_media_probe_job_of_the_file(editor_client, episode, editor):
    body = upload_local(editor_client, episode, DATA)
    job = Job.objects.get()
    assert (job.type, job.status) == ("media_probe", "queued")
    assert (job.file_id, job.episode_id, job.created_by) == (body["id"], episode.pk, editor)


def test_completing_twice_returns_the_same_file_and_queues_one_job(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    again = editor_client.post(f"{FILES}{body['id']}/complete/")
    assert again.status_code == 200
    assert again.json() == body
    assert Job.objects.count() == 1


def test_completing_before_any_upload_is_a_409_and_the_file_stays_pending(editor_client, episode):
    file_id = declare(editor_client, episode).json()["id"]
    response = editor_client.post(f"{FILES}{file_id}/complete/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "No upload has arrived for this file yet.",
        "code": "not_uploaded",
        "expected_size": 11,
    }
    assert stored_file(file_id).status == "pending"
    assert not Job.objects.exists()


def test_completing_with_bytes_of_another_size_in_storage_is_a_409_naming_both_sizes(
    editor_client, episode, local_storage
):
    file_id = declare(editor_client, episode, size=11).json()["id"]
    path = local_storage / stored_file(file_id).storage_key
    path.parent.mkdir(parents=True)
    path.write_bytes(b"short")
    response = editor_client.post(f"{FILES}{file_id}/complete/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The uploaded object is 5 bytes; 11 were declared.",
        "code": "size_mismatch",
        "expected_size": 11,
        "received_size": 5,
    }
    assert stored_file(file_id).status == "pending"


def test_completing_bytes_placed_without_the_api_hashes_them(editor_client, episode, local_storage):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    path = local_storage / stored_file(file_id).storage_key
    path.parent.mkdir(parents=True)
    path.write_bytes(DATA)
    response = editor_client.post(f"{FILES}{file_id}/complete/")
    assert response.json()["checksum_sha256"] == hashlib.sha256(DATA).hexdigest()


# --- Reading ----------------------------------------------------------------------------------


def test_an_uploaded_file_has_the_url_of_its_content(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    assert body["url"] == f"http://testserver/api/v1/files/{body['id']}/content/"


def test_the_content_url_serves_the_bytes_as_an_attachment(editor_client, episode):
    body = upload_local(editor_client, episode, DATA, filename="Take one.mp4")
    response = editor_client.get(body["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == DATA
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(DATA))
    assert response["Content-Disposition"] == 'attachment; filename="Take one.mp4"'


def test_the_content_is_served_sandboxed_and_uncached(editor_client, episode):
    body = upload_local(
        editor_client, episode, b"<svg onload=alert(1)/>", content_type="image/svg+xml"
    )
    response = editor_client.get(body["url"])
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_the_content_is_served_whatever_the_client_accepts(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    response = editor_client.get(body["url"], HTTP_ACCEPT="video/*")
    assert response.status_code == 200


def test_the_content_of_a_pending_file_is_a_409(editor_client, episode):
    file_id = declare(editor_client, episode).json()["id"]
    assert editor_client.get(f"{FILES}{file_id}/content/").status_code == 409


def test_the_content_of_a_missing_file_is_a_404(editor_client, episode):
    assert editor_client.get(f"{FILES}987654/content/").status_code == 404


def test_the_content_of_bytes_gone_from_storage_is_a_404(editor_client, episode, local_storage):
    body = upload_local(editor_client, episode, DATA)
    (local_storage / stored_file(body["id"]).storage_key).unlink()
    assert editor_client.get(body["url"]).status_code == 404


def test_retrieving_a_file_returns_its_representation(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    response = editor_client.get(f"{FILES}{body['id']}/")
    assert response.status_code == 200
    assert response.json() == body


def test_retrieving_a_missing_file_is_a_404(editor_client, db):
    assert editor_client.get(f"{FILES}987654/").status_code == 404


# --- Listing ----------------------------------------------------------------------------------


@pytest.fixture
def two_episodes_of_files(editor_client, episode):
    other = EpisodeFactory(episode_number=2)
    upload_local(editor_client, episode, b"a" * 3, filename="c.mp4")
    declare(editor_client, episode, filename="a.mp4", size=1)
    declare(editor_client, other, filename="b.mp4", size=2)
    return episode, other


def _names(response) -> list[str]:
    return [row["filename"] for row in response.json()["results"]]


def test_the_list_is_paginated_newest_first(editor_client, two_episodes_of_files):
    response = editor_client.get(FILES)
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert _names(response) == ["b.mp4", "a.mp4", "c.mp4"]


def test_the_list_filters_by_episode(editor_client, two_episodes_of_files):
    episode, _ = two_episodes_of_files
    assert _names(editor_client.get(FILES, {"episode": episode.pk})) == ["a.mp4", "c.mp4"]


def test_the_list_filters_by_status(editor_client, two_episodes_of_files):
    assert _names(editor_client.get(FILES, {"status": "uploaded"})) == ["c.mp4"]


def test_the_list_orders_by_size(editor_client, two_episodes_of_files):
    assert _names(editor_client.get(FILES, {"ordering": "-size"})) == ["c.mp4", "b.mp4", "a.mp4"]


@pytest.mark.parametrize(
    "params",
    [{"status": "lost"}, {"episode": "x"}, {"ordering": "storage_key"}, {"page": "0"}],
)
def test_a_bad_list_parameter_is_a_400_naming_it(editor_client, two_episodes_of_files, params):
    response = editor_client.get(FILES, params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_the_page_size_can_be_chosen(editor_client, two_episodes_of_files):
    response = editor_client.get(FILES, {"page_size": 2})
    assert len(response.json()["results"]) == 2
    assert response.json()["next"] is not None


def test_the_list_takes_a_fixed_number_of_queries(
    editor_client, episode, django_assert_max_num_queries
):
    for n in range(5):
        declare(editor_client, episode, filename=f"{n}.mp4")
    with django_assert_max_num_queries(4):
        editor_client.get(FILES)


# --- Deleting ---------------------------------------------------------------------------------


def test_deleting_a_file_removes_the_row(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    response = editor_client.delete(f"{FILES}{body['id']}/")
    assert response.status_code == 204
    assert not FileAsset.objects.filter(pk=body["id"]).exists()


def test_deleting_a_file_removes_its_bytes_once_committed(
    editor_client, episode, local_storage, django_capture_on_commit_callbacks
):
    body = upload_local(editor_client, episode, DATA)
    path = local_storage / stored_file(body["id"]).storage_key
    with django_capture_on_commit_callbacks() as callbacks:
        editor_client.delete(f"{FILES}{body['id']}/")
        assert path.exists()
    for callback in callbacks:
        callback()
    assert not path.exists()
    assert not path.parent.exists()


def test_deleting_a_pending_file_removes_it_too(editor_client, episode):
    file_id = declare(editor_client, episode).json()["id"]
    assert editor_client.delete(f"{FILES}{file_id}/").status_code == 204


def test_deleting_a_file_keeps_its_jobs_without_it(editor_client, episode):
    body = upload_local(editor_client, episode, DATA)
    editor_client.delete(f"{FILES}{body['id']}/")
    assert Job.objects.get().file_id is None


def test_deleting_an_episode_removes_its_files_bytes(
    editor_client, episode, local_storage, django_capture_on_commit_callbacks
):
    body = upload_local(editor_client, episode, DATA)
    path = local_storage / stored_file(body["id"]).storage_key
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.delete(f"/api/v1/episodes/{episode.pk}/").status_code == 204
    assert not FileAsset.objects.exists()
    assert not path.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_file_cannot_be_changed_through_its_detail(editor_client, episode, method):
    body = upload_local(editor_client, episode, DATA)
    response = getattr(editor_client, method)(f"{FILES}{body['id']}/", {}, format="json")
    assert response.status_code == 405
