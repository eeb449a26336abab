"""Writes of files: create an upload, receive its bytes (local storage), complete it, delete.

A file is created `pending` with a server-made storage key; the client sends the bytes
straight to storage (S3) or to the API (local); `complete` checks what arrived and marks
it `uploaded`. Each service owns its transaction; storage is never touched while a row
lock is held longer than needed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import structlog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from common.actor import as_actor
from common.errors import ConflictError, DomainError, FieldError
from episodes.models import Episode
from files import names, selectors, signals
from files.models import FileAsset
from files.storage import (
    CHUNK_SIZE,
    LocalFiles,
    UploadIncomplete,
    UploadTooLarge,
    file_storage,
    sha256_of,
)
from jobs.models import Job
from jobs.services import job_enqueue

logger = structlog.get_logger(__name__)

CONTENT_TYPE_MAX_CHARS = 127
# type/subtype as RFC 6838 allows, without parameters: the policy compares it exactly.
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class UploadError(DomainError):
    """The bytes sent, or found in storage, are not the ones declared."""

    def __init__(
        self, message: str, *, code: str, status_code: int, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, extra=extra)
        self.code = code
        self.status_code = status_code


def normalise_content_type(value: str) -> str:
    return value.strip().lower()


def content_type_allowed(content_type: str) -> bool:
    """`content_type` matches one of FILES_ALLOWED_TYPES (`video/*`, `image/png`, `*/*`)."""
    return any(
        fnmatch.fnmatchcase(content_type, pattern.strip().lower())
        for pattern in settings.FILES_ALLOWED_TYPES
        if pattern.strip()
    )


def _validated_content_type(value: str) -> str:
    content_type = normalise_content_type(value)
    if len(content_type) > CONTENT_TYPE_MAX_CHARS or not _CONTENT_TYPE.match(content_type):
        raise FieldError("content_type", "Give a media type such as video/mp4, without parameters.")
    if not content_type_allowed(content_type):
        allowed = ", ".join(settings.FILES_ALLOWED_TYPES)
        raise FieldError("content_type", f"{content_type} is not allowed; allowed: {allowed}.")
    return content_type


def _validated_size(size: int) -> int:
    if size < 1:
        raise FieldError("size", "A file must hold at least 1 byte.")
    if size > settings.FILES_MAX_SIZE:
        raise FieldError("size", f"A file may hold at most {settings.FILES_MAX_SIZE} bytes.")
    return size


@as_actor
@transaction.atomic
def file_create_upload(
    *,
    episode: Episode,
    filename: str,
    content_type: str,
    size: int,
    actor: AbstractBaseUser | None,
) -> FileAsset:
    """A pending file of `episode`, under a key the server makes; the bytes come later."""
    content_type = _validated_content_type(content_type)
    size = _validated_size(size)
    try:
        # Held until commit: the file must not race its episode's deletion.
        episode = Episode.objects.select_for_update().get(pk=episode.pk)
    except Episode.DoesNotExist:
        raise FieldError("episode", "This episode no longer exists.") from None
    display = names.display_filename(filename)
    return FileAsset.objects.create(
        episode=episode,
        filename=display,
        storage_key=names.storage_key(episode.pk, display),
        content_type=content_type,
        size=size,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


def _must_be_pending(file: FileAsset) -> None:
    if file.status != FileAsset.Status.PENDING:
        raise ConflictError(
            f"This file is already {file.status}; its bytes cannot change.",
            extra={"status": file.status, "allowed_from": [FileAsset.Status.PENDING]},
        )


def _check_declared(file: FileAsset, content_type: str | None, content_length: int | None) -> None:
    """The request announces the declared type and exactly the declared size."""
    sent = normalise_content_type((content_type or "").split(";")[0])
    if sent != file.content_type:
        raise UploadError(
            f"Send the bytes as {file.content_type}, the type declared; got {sent or 'none'}.",
            code="content_type_mismatch",
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            extra={"expected_content_type": file.content_type},
        )
    if content_length is None:
        raise UploadError(
            "A Content-Length header is required.",
            code="length_required",
            status_code=status.HTTP_411_LENGTH_REQUIRED,
        )
    if content_length > file.size:
        raise UploadError(
            f"The body is {content_length} bytes; {file.size} were declared.",
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            extra={"expected_size": file.size, "received_size": content_length},
        )
    if content_length < file.size:
        raise UploadError(
            f"The body is {content_length} bytes; {file.size} were declared.",
            code="size_mismatch",
            status_code=status.HTTP_400_BAD_REQUEST,
            extra={"expected_size": file.size, "received_size": content_length},
        )


def _read_chunks(stream: BinaryIO, limit: int) -> Iterator[bytes]:
    """The body in chunks: at most `limit` + 1 bytes are read, so that one too many shows."""
    remaining = limit + 1
    while remaining > 0:
        try:
            chunk = stream.read(min(CHUNK_SIZE, remaining))
        except OSError as exc:  # the client went away mid-body
            raise UploadIncomplete(limit + 1 - remaining) from exc
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _local_files() -> LocalFiles:
    backend = file_storage()
    if not isinstance(backend, LocalFiles):
        raise ConflictError(
            "Files go straight to S3 here: use the upload instructions of POST files/."
        )
    return backend


@as_actor
def file_receive_upload(
    *,
    file: FileAsset,
    stream: BinaryIO,
    content_type: str | None,
    content_length: int | None,
    actor: AbstractBaseUser | None,
) -> FileAsset:
    """Local storage: stream the request body to disk in chunks, hashing it on the way.

    The body is checked against the declaration before a byte is read, and never held in
    memory. The file stays `pending`, with its checksum, until `file_complete_upload`.
    Sending again while pending replaces the bytes.
    """
    backend = _local_files()
    _must_be_pending(file)
    _check_declared(file, content_type, content_length)
    try:
        received = backend.receive(
            file.storage_key, _read_chunks(stream, file.size), size=file.size
        )
    except UploadTooLarge:
        raise UploadError(
            f"More than the {file.size} bytes declared were sent.",
            code="too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            extra={"expected_size": file.size},
        ) from None
    except UploadIncomplete as exc:
        raise UploadError(
            f"The body ended after {exc.received} of {file.size} bytes.",
            code="size_mismatch",
            status_code=status.HTTP_400_BAD_REQUEST,
            extra={"expected_size": file.size, "received_size": exc.received},
        ) from None
    try:
        with transaction.atomic():
            # Under the row lock, so that of two uploads racing, the bytes in place and the
            # checksum recorded are the same one's.
            locked = FileAsset.objects.select_for_update().get(pk=file.pk)
            _must_be_pending(locked)
            backend.place(received, locked.storage_key)
            locked.checksum_sha256 = received.sha256
            locked.save(update_fields=["checksum_sha256", "updated_at"])
    except BaseException:
        backend.discard(received)
        raise
    return locked


@as_actor
def file_complete_upload(*, file: FileAsset, actor: AbstractBaseUser | None) -> FileAsset:
    """Check the object arrived as declared; mark the file uploaded and queue its probe.

    Idempotent: a file no longer pending is returned as it is, with nothing logged or
    queued again. A missing or different object leaves the file pending (409).
    """
    current = FileAsset.objects.get(pk=file.pk)
    if current.status != FileAsset.Status.PENDING:
        return current
    backend = file_storage()
    info = backend.stat(current.storage_key)  # a network call: before any lock is taken
    if info is None:
        raise UploadError(
            "No upload has arrived for this file yet.",
            code="not_uploaded",
            status_code=status.HTTP_409_CONFLICT,
            extra={"expected_size": current.size},
        )
    if info.size != current.size:
        raise UploadError(
            f"The uploaded object is {info.size} bytes; {current.size} were declared.",
            code="size_mismatch",
            status_code=status.HTTP_409_CONFLICT,
            extra={"expected_size": current.size, "received_size": info.size},
        )
    stored_type = normalise_content_type(info.content_type or current.content_type)
    if stored_type != current.content_type:
        raise UploadError(
            f"The uploaded object is {stored_type}; {current.content_type} was declared.",
            code="content_type_mismatch",
            status_code=status.HTTP_409_CONFLICT,
            extra={"expected_content_type": current.content_type},
        )
    checksum = current.checksum_sha256
    if not checksum and isinstance(backend, LocalFiles):
        # Bytes placed by other means than the upload endpoint: hash them from disk.
        checksum = sha256_of(backend.read_chunks(current.storage_key))
    with transaction.atomic():
        locked = FileAsset.objects.select_for_update().get(pk=file.pk)
        if locked.status != FileAsset.Status.PENDING:
            return locked
        locked.status = FileAsset.Status.UPLOADED
        locked.uploaded_at = timezone.now()
        locked.checksum_sha256 = locked.checksum_sha256 or checksum
        locked.save(update_fields=["status", "uploaded_at", "checksum_sha256", "updated_at"])
        signals.file_uploaded.send(sender=FileAsset, file=locked, actor=actor)
        # In the same transaction: an uploaded file always has its probe job, and the job
        # is dispatched only once both have committed.
        job_enqueue(
            type=Job.Type.MEDIA_PROBE.value, actor=actor, episode=locked.episode, file=locked
        )
    return locked


@as_actor
@transaction.atomic
def file_delete(*, file: FileAsset, actor: AbstractBaseUser | None) -> None:
    """Delete the row; its object goes once the deletion commits (files.receivers)."""
    file.delete()


def file_prune_pending(*, ttl: int | None = None) -> int:
    """Delete uploads left pending past FILES_PENDING_TTL, objects included; how many."""
    deleted = 0
    stale_ids = list(selectors.file_list_stale_pending(ttl=ttl).values_list("id", flat=True))
    for file_id in stale_ids:
        with transaction.atomic():
            # Checked again under the lock: one completed meanwhile is kept.
            stale = (
                selectors.file_list_stale_pending(ttl=ttl)
                .select_for_update()
                .filter(pk=file_id)
                .first()
            )
            if stale is None:
                continue
            file_delete(file=stale, actor=None)
            deleted += 1
    if deleted:
        logger.info("pending_uploads_pruned", count=deleted)
    return deleted
