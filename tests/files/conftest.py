"""Fixtures of the files tests: local storage in a temporary MEDIA_ROOT, or S3 served by moto.

`local_storage` is on for every test here unless it asks for `s3`, which points the AWS_*
settings at a moto server started once per session (POST policies enforced, see
tests/files/s3_server.py) with a fresh bucket per test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from episodes.models import Episode
from files.models import FileAsset
from realtime.models import Activity, Event, Notification
from tests.factories import EpisodeFactory
from tests.files.s3_server import PolicyEnforcingMotoServer

ACCESS_KEY = "files-test-key"
SECRET_KEY = "files-test-secret"
REGION = "us-east-1"
FILES = "/api/v1/files/"
HTTP_WAIT = 10.0


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path) -> Path:
    """Files go under a MEDIA_ROOT of the test's own (S3 tests replace this)."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.AWS_STORAGE_BUCKET_NAME = ""
    return media


@pytest.fixture(scope="session")
def moto_server() -> Iterator[PolicyEnforcingMotoServer]:
    server = PolicyEnforcingMotoServer(secrets={ACCESS_KEY: SECRET_KEY})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str
    client: Any

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture
def s3(settings, moto_server) -> S3:
    """The AWS_* settings pointed at moto, with a bucket of this test's own."""
    httpx.post(f"{moto_server.url}/moto-api/reset", timeout=HTTP_WAIT).raise_for_status()
    bucket = f"showdesk-{uuid.uuid4().hex[:12]}"
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = moto_server.url
    settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    client = boto3.client(
        "s3",
        endpoint_url=moto_server.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    client.create_bucket(Bucket=bucket)
    return S3(endpoint=moto_server.url, bucket=bucket, client=client)


@pytest.fixture
def episode(db) -> Episode:
    """An episode made without side effects of its own (bulk_create sends no signals)."""
    return Episode.objects.bulk_create([EpisodeFactory.build(title="Pilot", episode_number=1)])[0]


@pytest.fixture
def token_client_for() -> Callable[[Any], APIClient]:
    def make(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def editor_client(token_client_for, editor) -> APIClient:
    return token_client_for(editor)


def declare(
    client: APIClient,
    episode: Episode,
    *,
    filename: str = "take1.mp4",
    content_type: str = "video/mp4",
    size: int = 11,
) -> Any:
    """POST files/: the response. The JSON is ASCII, so any string can be sent (even a lone
    surrogate, which UTF-8 cannot carry)."""
    body = {"episode": episode.pk, "filename": filename, "content_type": content_type, "size": size}
    return client.post(FILES, json.dumps(body), content_type="application/json")


def put_bytes(client: APIClient, file_id: int, data: bytes, content_type: str = "video/mp4"):
    """PUT files/{id}/upload/ with `data` as the body."""
    return client.generic("PUT", f"{FILES}{file_id}/upload/", data, content_type=content_type)


def upload_local(client: APIClient, episode: Episode, data: bytes, **fields: Any) -> dict:
    """Declare, send and complete a file on local storage; its final representation."""
    created = declare(client, episode, size=len(data), **fields)
    assert created.status_code == 201, created.json()
    file_id = created.json()["id"]
    sent = put_bytes(client, file_id, data, created.json()["content_type"])
    assert sent.status_code == 200, sent.json()
    completed = client.post(f"{FILES}{file_id}/complete/")
    assert completed.status_code == 200, completed.json()
    return completed.json()


def post_to_s3(upload: dict[str, Any], data: bytes, content_type: str) -> httpx.Response:
    """What a browser does with a presigned POST: the fields, then the file, as a form."""
    fields = dict(upload["fields"])
    fields["Content-Type"] = content_type
    return httpx.post(
        upload["url"],
        data=fields,
        files={"file": ("blob", data, content_type)},
        timeout=HTTP_WAIT,
    )


def wipe_side_effects() -> None:
    Activity.objects.all().delete()
    Notification.objects.all().delete()
    Event.objects.all().delete()


def stored_file(file_id: int) -> FileAsset:
    return FileAsset.objects.get(pk=file_id)
