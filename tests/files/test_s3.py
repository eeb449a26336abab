"""Files on S3 (moto in server mode): real HTTP uploads with the presigned POST, then complete.

The policy checks are those of AWS, enforced in front of moto by tests/files/s3_server.py.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from files.models import FileAsset
from jobs.models import Job
from tests.files.conftest import FILES, HTTP_WAIT, declare, post_to_s3, stored_file

pytestmark = pytest.mark.django_db

DATA = b"\x00\x01binary media\xff"


@pytest.fixture
def declared(editor_client, episode, s3) -> dict:
    response = declare(editor_client, episode, filename="cut.mp4", size=len(DATA))
    assert response.status_code == 201
    return response.json()


def _policy(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


def test_declaring_an_upload_returns_a_presigned_post_to_the_bucket(declared, s3):
    upload = declared["upload"]
    assert upload["method"] == "POST"
    assert upload["url"] == f"{s3.endpoint}/{s3.bucket}"
    assert upload["fields"]["key"] == stored_file(declared["id"]).storage_key
    assert upload["fields"]["Content-Type"] == "video/mp4"
    assert "headers" not in upload


def test_the_policy_admits_exactly_the_declared_size_and_type(declared):
    conditions = _policy(declared["upload"])["conditions"]
    assert ["content-length-range", len(DATA), len(DATA)] in conditions
    assert {"Content-Type": "video/mp4"} in conditions
    assert {"key": stored_file(declared["id"]).storage_key} in conditions


def test_the_policy_expires_after_files_upload_url_ttl(editor_client, episode, s3, settings):
    settings.FILES_UPLOAD_URL_TTL = 120
    body = declare(editor_client, episode, size=len(DATA)).json()
    expiration = _policy(body["upload"])["expiration"]
    created = FileAsset.objects.get(pk=body["id"]).created_at
    seconds = (datetime.fromisoformat(expiration.replace("Z", "+00:00")) - created).total_seconds()
    assert 110 <= seconds <= 125


def test_a_presigned_post_upload_then_complete_marks_the_file_uploaded(declared, editor_client, s3):
    uploaded = post_to_s3(declared["upload"], DATA, "video/mp4")
    assert uploaded.status_code == 204, uploaded.text
    response = editor_client.post(f"{FILES}{declared['id']}/complete/")
    assert response.status_code == 200
    assert response.json()["status"] == "uploaded"
    assert s3.read(stored_file(declared["id"]).storage_key) == DATA


def test_completing_an_s3_upload_queues_its_probe_once(declared, editor_client):
    post_to_s3(declared["upload"], DATA, "video/mp4")
    editor_client.post(f"{FILES}{declared['id']}/complete/")
    editor_client.post(f"{FILES}{declared['id']}/complete/")
    assert list(Job.objects.values_list("type", "file_id")) == [("media_probe", declared["id"])]


def test_the_checksum_of_an_s3_upload_is_left_to_the_media_probe(declared, editor_client):
    post_to_s3(declared["upload"], DATA, "video/mp4")
    body = editor_client.post(f"{FILES}{declared['id']}/complete/").json()
    assert body["checksum_sha256"] == ""


def test_s3_refuses_an_upload_of_another_type(declared, s3):
    response = post_to_s3(declared["upload"], DATA, "text/html")
    assert response.status_code == 403
    assert "Policy Condition failed" in response.text
    assert s3.head(stored_file(declared["id"]).storage_key) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [(DATA + b"!", "EntityTooLarge"), (DATA[:-1], "EntityTooSmall")],
    ids=["larger", "smaller"],
)
def test_s3_refuses_an_upload_of_another_size(declared, s3, data, code):
    response = post_to_s3(declared["upload"], data, "video/mp4")
    assert response.status_code == 400
    assert code in response.text
    assert s3.head(stored_file(declared["id"]).storage_key) is None


def test_s3_refuses_an_upload_to_another_key(declared, s3):
    upload = {**declared["upload"], "fields": {**declared["upload"]["fields"], "key": "evil.mp4"}}
    assert post_to_s3(upload, DATA, "video/mp4").status_code == 403
    assert s3.head("evil.mp4") is None


def test_completing_before_the_upload_is_a_409(declared, editor_client):
    response = editor_client.post(f"{FILES}{declared['id']}/complete/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_uploaded"


def test_completing_an_object_of_another_size_is_a_409_and_the_file_stays_pending(
    declared, editor_client, s3
):
    key = stored_file(declared["id"]).storage_key
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"tiny", ContentType="video/mp4")
    response = editor_client.post(f"{FILES}{declared['id']}/complete/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The uploaded object is 4 bytes; {len(DATA)} were declared.",
        "code": "size_mismatch",
        "expected_size": len(DATA),
        "received_size": 4,
    }
    assert stored_file(declared["id"]).status == "pending"
    assert not Job.objects.exists()


def test_completing_an_object_of_another_type_is_a_409(declared, editor_client, s3):
    key = stored_file(declared["id"]).storage_key
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=DATA, ContentType="text/html")
    response = editor_client.post(f"{FILES}{declared['id']}/complete/")
    assert response.status_code == 409
    assert response.json()["code"] == "content_type_mismatch"


@pytest.fixture
def uploaded(declared, editor_client) -> dict:
    post_to_s3(declared["upload"], DATA, "video/mp4")
    return editor_client.post(f"{FILES}{declared['id']}/complete/").json()


def test_the_url_of_an_s3_file_is_a_presigned_get_of_the_bytes(uploaded, s3):
    url = uploaded["url"]
    assert url.startswith(f"{s3.endpoint}/{s3.bucket}/episodes/")
    response = httpx.get(url, timeout=HTTP_WAIT)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["Content-Disposition"] == 'attachment; filename="cut.mp4"'


def test_the_presigned_get_lasts_files_download_url_ttl(uploaded):
    query = parse_qs(urlparse(uploaded["url"]).query)
    assert query["X-Amz-Expires"] == ["300"]


def test_the_content_endpoint_redirects_to_a_presigned_get(uploaded, editor_client, s3):
    response = editor_client.get(f"{FILES}{uploaded['id']}/content/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{s3.endpoint}/{s3.bucket}/episodes/")


def test_deleting_an_s3_file_deletes_its_object_once_committed(
    uploaded, editor_client, s3, django_capture_on_commit_callbacks
):
    key = stored_file(uploaded["id"]).storage_key
    with django_capture_on_commit_callbacks() as callbacks:
        assert editor_client.delete(f"{FILES}{uploaded['id']}/").status_code == 204
        assert s3.head(key) is not None
    for callback in callbacks:
        callback()
    assert s3.head(key) is None
