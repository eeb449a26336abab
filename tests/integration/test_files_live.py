"""Uploads through a real server process (uvicorn): local storage, and S3 served by moto.

The server shares the test database and, for local storage, the MEDIA_ROOT; the bytes go
over real sockets, streamed from a generator.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from files.models import FileAsset
from jobs.models import Job
from tests.factories import EpisodeFactory, UserFactory
from tests.files.s3_server import PolicyEnforcingMotoServer
from tests.live_server import api_token, run_server

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024
WAIT = 30.0
ACCESS_KEY, SECRET_KEY, REGION = "live-key", "live-secret", "us-east-1"


def chunks(total: int) -> Iterator[bytes]:
    block = bytes(range(256)) * (MiB // 256)
    for start in range(0, total, MiB):
        yield block[: min(MiB, total - start)]


def sha256(total: int) -> str:
    digest = hashlib.sha256()
    for chunk in chunks(total):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def people():
    editor = UserFactory(username="ed", roles=["editors"])
    viewer = UserFactory(username="vera", roles=["viewers"])
    episode = EpisodeFactory(title="Pilot", episode_number=1)
    return {"editor": api_token(editor), "viewer": api_token(viewer), "episode": episode}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def test_a_local_upload_and_its_completion_through_a_real_server(people, tmp_path, settings):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    size = 16 * MiB
    with (
        run_server(MEDIA_ROOT=str(media), AWS_STORAGE_BUCKET_NAME="") as server,
        httpx.Client(base_url=server.url, timeout=WAIT) as http,
    ):
        created = http.post(
            "/api/v1/files/",
            json={
                "episode": people["episode"].pk,
                "filename": "../big take.mp4",
                "content_type": "video/mp4",
                "size": size,
            },
            headers=_auth(people["editor"]),
        )
        assert created.status_code == 201, created.text
        upload = created.json()["upload"]
        assert upload["url"] == f"{server.url}/api/v1/files/{created.json()['id']}/upload/"
        sent = http.put(
            upload["url"],
            content=chunks(size),
            headers={
                **upload["headers"],
                "Content-Length": str(size),
                **_auth(people["editor"]),
            },
        )
        assert sent.status_code == 200, sent.text
        completed = http.post(
            f"/api/v1/files/{created.json()['id']}/complete/", headers=_auth(people["editor"])
        )
        assert completed.status_code == 200, completed.text
        body = completed.json()
        read = http.get(body["url"], headers=_auth(people["viewer"]))
        anonymous = http.get(body["url"])
    assert (body["status"], body["checksum_sha256"]) == ("uploaded", sha256(size))
    assert body["filename"] == "big take.mp4"
    assert read.status_code == 200
    assert hashlib.sha256(read.content).hexdigest() == sha256(size)
    assert anonymous.status_code == 403
    key = FileAsset.objects.get(pk=body["id"]).storage_key
    assert (media / key).stat().st_size == size
    assert Job.objects.filter(type="media_probe", file_id=body["id"]).count() == 1


@pytest.fixture(scope="module")
def moto() -> Iterator[PolicyEnforcingMotoServer]:
    server = PolicyEnforcingMotoServer(secrets={ACCESS_KEY: SECRET_KEY})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_an_s3_upload_and_its_completion_through_a_real_server(people, moto):
    bucket = f"live-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    client.create_bucket(Bucket=bucket)
    data = b"".join(chunks(3 * MiB))
    env = {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_S3_ADDRESSING_STYLE": "path",
    }
    with run_server(**env) as server, httpx.Client(base_url=server.url, timeout=WAIT) as http:
        created = http.post(
            "/api/v1/files/",
            json={
                "episode": people["episode"].pk,
                "filename": "cut.mp4",
                "content_type": "video/mp4",
                "size": len(data),
            },
            headers=_auth(people["editor"]),
        )
        assert created.status_code == 201, created.text
        upload = created.json()["upload"]
        posted = httpx.post(
            upload["url"],
            data=upload["fields"],
            files={"file": ("cut.mp4", data, "video/mp4")},
            timeout=WAIT,
        )
        assert posted.status_code == 204, posted.text
        completed = http.post(
            f"/api/v1/files/{created.json()['id']}/complete/", headers=_auth(people["editor"])
        )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "uploaded"
    fetched = httpx.get(completed.json()["url"], timeout=WAIT)
    assert fetched.content == data
    key = FileAsset.objects.get(pk=created.json()["id"]).storage_key
    assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)


def test_the_server_refuses_an_upload_larger_than_declared(people, tmp_path, settings):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    with (
        run_server(MEDIA_ROOT=str(media), AWS_STORAGE_BUCKET_NAME="") as server,
        httpx.Client(base_url=server.url, timeout=WAIT) as http,
    ):
        created = http.post(
            "/api/v1/files/",
            json={
                "episode": people["episode"].pk,
                "filename": "a.mp4",
                "content_type": "video/mp4",
                "size": MiB,
            },
            headers=_auth(people["editor"]),
        )
        sent = http.put(
            created.json()["upload"]["url"],
            content=b"x" * (2 * MiB),
            headers={"Content-Type": "video/mp4", **_auth(people["editor"])},
        )
    assert sent.status_code == 413
    assert [path for path in Path(media).rglob("*") if path.is_file()] == []


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_the_server_streams_a_large_file_without_holding_it(people, tmp_path, settings):
    """Django reads a synchronous streaming response whole under ASGI: the content endpoint
    must hand it chunks asynchronously, so a 128 MiB file leaves the server's peak alone."""
    media = tmp_path / "media"
    size = 128 * MiB
    key = f"episodes/{people['episode'].pk}/{'f' * 32}/big.mp4"
    (media / key).parent.mkdir(parents=True)
    with (media / key).open("wb") as out:
        for chunk in chunks(size):
            out.write(chunk)
    file = FileAsset.objects.create(
        episode=people["episode"],
        filename="big.mp4",
        storage_key=key,
        content_type="video/mp4",
        size=size,
        status=FileAsset.Status.UPLOADED,
    )
    with (
        run_server(MEDIA_ROOT=str(media), AWS_STORAGE_BUCKET_NAME="") as server,
        httpx.Client(base_url=server.url, timeout=WAIT) as http,
    ):
        before = _memory_kib(server.process.pid, "VmRSS")
        digest, received = hashlib.sha256(), 0
        with http.stream(
            "GET", f"/api/v1/files/{file.pk}/content/", headers=_auth(people["viewer"])
        ) as response:
            assert response.status_code == 200
            for part in response.iter_bytes():
                digest.update(part)
                received += len(part)
        peak = _memory_kib(server.process.pid, "VmHWM")
    assert received == size
    assert digest.hexdigest() == sha256(size)
    assert (peak - before) * 1024 < 32 * MiB, f"grew {(peak - before) / 1024:.0f} MiB"
