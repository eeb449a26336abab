"""Sending the bytes to the API on local storage: checked before reading, streamed to disk.

The large upload goes through Django's WSGI handler with a body produced by a generator, so
that neither the client nor the server side of the test can hold it whole; tracemalloc
measures what the server side allocates.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test.client import ClientHandler, RequestFactory
from rest_framework.authtoken.models import Token

from files.models import FileAsset
from tests.files.conftest import FILES, declare, put_bytes, stored_file

pytestmark = pytest.mark.django_db

DATA = b"hello world"
MiB = 1024 * 1024


def leftovers(media: Path) -> list[Path]:
    """Every file under MEDIA_ROOT, finished or not."""
    return [path for path in media.rglob("*") if path.is_file()]


class GeneratedBody:
    """A request body read from a generator: `read(n)` as wsgi.input offers it."""

    def __init__(self, chunks: Iterator[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.pending = b""
        self.sent = 0
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.pending) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.pending += chunk
        if size < 0:
            size = len(self.pending)
        out, self.pending = self.pending[:size], self.pending[size:]
        self.sent += len(out)
        if self.fail_after is not None and self.sent > self.fail_after:
            raise ConnectionResetError("client went away")
        return out

    def readline(self, size: int = -1) -> bytes:
        raise AssertionError("an upload body is never read by lines")


def pattern_chunks(total: int, chunk: int = MiB) -> Iterator[bytes]:
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < total:
        part = block[: min(chunk, total - sent)]
        sent += len(part)
        yield part


def call_wsgi(
    user: Any, method: str, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request through Django's WSGI handler (middleware, auth, view) with `body` as
    wsgi.input; the status and the response body."""
    token, _ = Token.objects.get_or_create(user=user)
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD=method,
        HTTP_AUTHORIZATION=f"Token {token.key}",
        **headers,
    )
    environ["wsgi.input"] = body
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    # The handler closes the response itself, as a WSGI server would.
    content = b"".join(response) if response.streaming else response.content
    return response.status_code, content


def test_the_bytes_sent_are_stored_under_the_files_key(editor_client, episode, local_storage):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    response = put_bytes(editor_client, file_id, DATA)
    assert response.status_code == 200
    assert (local_storage / stored_file(file_id).storage_key).read_bytes() == DATA


def test_sending_the_bytes_records_their_checksum_and_leaves_the_file_pending(
    editor_client, episode
):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    body = put_bytes(editor_client, file_id, DATA).json()
    assert body["status"] == "pending"
    assert body["checksum_sha256"] == hashlib.sha256(DATA).hexdigest()


def test_sending_again_while_pending_replaces_the_bytes(editor_client, episode, local_storage):
    file_id = declare(editor_client, episode, size=5).json()["id"]
    put_bytes(editor_client, file_id, b"first")
    body = put_bytes(editor_client, file_id, b"again").json()
    assert (local_storage / stored_file(file_id).storage_key).read_bytes() == b"again"
    assert body["checksum_sha256"] == hashlib.sha256(b"again").hexdigest()


def test_bytes_of_another_type_are_a_415_and_nothing_is_stored(
    editor_client, episode, local_storage
):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    response = put_bytes(editor_client, file_id, DATA, content_type="text/html")
    assert response.status_code == 415
    assert response.json()["code"] == "content_type_mismatch"
    assert response.json()["expected_content_type"] == "video/mp4"
    assert leftovers(local_storage) == []


def test_more_bytes_than_declared_are_a_413_and_nothing_is_stored(
    editor_client, episode, local_storage
):
    file_id = declare(editor_client, episode, size=5).json()["id"]
    response = put_bytes(editor_client, file_id, DATA)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The body is 11 bytes; 5 were declared.",
        "code": "too_large",
        "expected_size": 5,
        "received_size": 11,
    }
    assert leftovers(local_storage) == []


def test_fewer_bytes_than_declared_are_a_400(editor_client, episode, local_storage):
    file_id = declare(editor_client, episode, size=20).json()["id"]
    response = put_bytes(editor_client, file_id, DATA)
    assert response.status_code == 400
    assert response.json()["code"] == "size_mismatch"
    assert leftovers(local_storage) == []


def test_a_body_without_content_length_is_a_411(editor, episode, editor_client):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    status, _ = call_wsgi(
        editor,
        "PUT",
        f"{FILES}{file_id}/upload/",
        GeneratedBody(iter([DATA])),
        {"CONTENT_TYPE": "video/mp4"},
    )
    assert status == 411


def test_a_client_that_goes_away_mid_body_leaves_nothing_behind(
    editor, episode, editor_client, local_storage
):
    size = 4 * MiB
    file_id = declare(editor_client, episode, size=size).json()["id"]
    status, _ = call_wsgi(
        editor,
        "PUT",
        f"{FILES}{file_id}/upload/",
        GeneratedBody(pattern_chunks(size), fail_after=2 * MiB),
        {"CONTENT_TYPE": "video/mp4", "CONTENT_LENGTH": str(size)},
    )
    assert status == 400
    assert leftovers(local_storage) == []
    assert stored_file(file_id).checksum_sha256 == ""


def test_bytes_for_an_uploaded_file_are_a_409(editor_client, episode, local_storage):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    put_bytes(editor_client, file_id, DATA)
    editor_client.post(f"{FILES}{file_id}/complete/")
    response = put_bytes(editor_client, file_id, b"HELLO WORLD")
    assert response.status_code == 409
    assert (local_storage / stored_file(file_id).storage_key).read_bytes() == DATA


def test_the_upload_endpoint_is_a_409_when_files_go_to_s3(editor_client, episode, s3):
    file_id = declare(editor_client, episode, size=len(DATA)).json()["id"]
    response = put_bytes(editor_client, file_id, DATA)
    assert response.status_code == 409
    assert "S3" in response.json()["detail"]


def test_the_upload_of_a_missing_file_is_a_404(editor_client, db):
    assert put_bytes(editor_client, 987654, DATA).status_code == 404


def test_a_200_mib_upload_is_streamed_without_holding_it_in_memory(
    editor, episode, editor_client, local_storage
):
    size = 200 * MiB
    file_id = declare(editor_client, episode, size=size).json()["id"]
    expected = hashlib.sha256()
    for chunk in pattern_chunks(size):
        expected.update(chunk)
    body = GeneratedBody(pattern_chunks(size))
    tracemalloc.start()
    try:
        status, content = call_wsgi(
            editor,
            "PUT",
            f"{FILES}{file_id}/upload/",
            body,
            {"CONTENT_TYPE": "video/mp4", "CONTENT_LENGTH": str(size)},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200, content
    assert body.sent == size
    assert (local_storage / stored_file(file_id).storage_key).stat().st_size == size
    assert stored_file(file_id).checksum_sha256 == expected.hexdigest()
    # The generator's own chunk and the server's read buffer are a few MiB; the file is 200.
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_no_file_row_changes_when_the_bytes_are_refused(editor_client, episode):
    file_id = declare(editor_client, episode, size=5).json()["id"]
    before = FileAsset.objects.values().get(pk=file_id)
    put_bytes(editor_client, file_id, DATA)
    assert FileAsset.objects.values().get(pk=file_id) == before
