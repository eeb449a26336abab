"""Where the bytes of files live: S3 (django-storages) when a bucket is set, MEDIA_ROOT otherwise.

`file_storage()` builds the backend from the settings of the moment (cached per settings), so
tests that point AWS_* elsewhere get a new one. Both backends answer the same questions:
how to upload (`upload_instructions`), what arrived (`stat`), how to read and delete.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.dispatch import receiver

CHUNK_SIZE = 1024 * 1024
_PART_SUFFIX = ".part"


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None


class UploadTooLarge(Exception):
    """More bytes arrived than were declared."""


class UploadIncomplete(Exception):
    """The body ended before the declared size: the client went away."""

    def __init__(self, received: int) -> None:
        super().__init__(f"received {received} bytes")
        self.received = received


@dataclass(frozen=True)
class ReceivedUpload:
    """Bytes written next to their final key, waiting to be put in place."""

    temp_path: Path
    size: int
    sha256: str


def sha256_of(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class LocalFiles:
    """Files under MEDIA_ROOT, uploaded through the API (PUT files/{id}/upload/)."""

    kind = "local"

    def __init__(self, location: str) -> None:
        self.storage = FileSystemStorage(location=location)
        self.root = Path(self.storage.location)

    def path(self, key: str) -> Path:
        # FileSystemStorage.path refuses any name that would resolve outside its location.
        return Path(self.storage.path(key))

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            return ObjectInfo(size=self.path(key).stat().st_size, content_type=None)
        except FileNotFoundError:
            return None

    def receive(self, key: str, chunks: Iterable[bytes], *, size: int) -> ReceivedUpload:
        """Write `chunks` to a temporary file beside `key`, hashing as they pass.

        At most `size` bytes are taken; one more is UploadTooLarge, fewer UploadIncomplete.
        Nothing is left behind on failure.
        """
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(f".{uuid.uuid4().hex}{_PART_SUFFIX}")
        digest = hashlib.sha256()
        received = 0
        try:
            with temp.open("xb") as out:
                for chunk in chunks:
                    received += len(chunk)
                    if received > size:
                        raise UploadTooLarge
                    digest.update(chunk)
                    out.write(chunk)
            if received < size:
                raise UploadIncomplete(received)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return ReceivedUpload(temp_path=temp, size=received, sha256=digest.hexdigest())

    def place(self, received: ReceivedUpload, key: str) -> None:
        os.replace(received.temp_path, self.path(key))

    def discard(self, received: ReceivedUpload) -> None:
        received.temp_path.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def read_chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk

    def delete(self, key: str) -> None:
        """The object, unfinished uploads beside it, and its folder when left empty."""
        final = self.path(key)
        final.unlink(missing_ok=True)
        folder = final.parent
        if not folder.is_dir():
            return
        for leftover in folder.glob(f".*{_PART_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: something else lives there
            folder.rmdir()

    def upload_instructions(self, key: str, *, content_type: str, size: int) -> dict[str, Any]:
        # The URL is the API's, and depends on the request: the view fills it in.
        return {"method": "PUT", "url": None, "headers": {"Content-Type": content_type}}

    def download_url(self, key: str, *, filename: str) -> str | None:
        return None  # served by the API (files/{id}/content/), which checks the caller


class S3Files:
    """Files in an S3 bucket, uploaded by clients straight to S3 with a presigned POST."""

    kind = "s3"

    def __init__(self) -> None:
        from storages.backends.s3 import S3Storage

        self.storage = S3Storage()

    @property
    def client(self) -> Any:
        return self.storage.connection.meta.client

    @property
    def bucket(self) -> str:
        return self.storage.bucket_name

    def object_key(self, key: str) -> str:
        # AWS_LOCATION, when set, prefixes every key, as django-storages does.
        return self.storage._normalize_name(key)

    def upload_instructions(self, key: str, *, content_type: str, size: int) -> dict[str, Any]:
        """A presigned POST whose policy admits exactly `size` bytes of `content_type`."""
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=settings.FILES_UPLOAD_URL_TTL,
        )
        return {"method": "POST", "url": post["url"], "fields": post["fields"]}

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return ObjectInfo(size=int(head["ContentLength"]), content_type=head.get("ContentType"))

    def read_chunks(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.storage.delete(key)

    def download_url(self, key: str, *, filename: str) -> str | None:
        """A GET valid FILES_DOWNLOAD_URL_TTL seconds, saved under the file's name."""
        from django.utils.http import content_disposition_header

        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentDisposition": content_disposition_header(True, filename),
            },
            ExpiresIn=settings.FILES_DOWNLOAD_URL_TTL,
        )


FileBackend = LocalFiles | S3Files

_backends: dict[tuple, FileBackend] = {}
_lock = threading.Lock()
_SETTINGS = (
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
    "AWS_S3_ADDRESSING_STYLE",
    "AWS_LOCATION",
    "MEDIA_ROOT",
)


def file_storage() -> FileBackend:
    """The backend the settings ask for: S3 when AWS_STORAGE_BUCKET_NAME is set."""
    signature = tuple(str(getattr(settings, name, "")) for name in _SETTINGS)
    backend = _backends.get(signature)
    if backend is None:
        with _lock:
            backend = _backends.get(signature)
            if backend is None:
                if settings.AWS_STORAGE_BUCKET_NAME:
                    backend = S3Files()
                else:
                    backend = LocalFiles(str(settings.MEDIA_ROOT))
                _backends.clear()
                _backends[signature] = backend
    return backend


@receiver(setting_changed)
def _forget_backends(setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS or setting.startswith("AWS_"):
        _backends.clear()
