"""Reading and writing the bytes of files for handlers, with storage errors sorted out.

A missing object is an error a retry cannot fix; any other storage failure (a network
error, a timeout) may pass, so it is retryable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.core.files.storage import default_storage

from files.models import FileAsset
from jobs.errors import JobError, JobParamsError, RetryableJobError
from jobs.models import Job

CHUNK_SIZE = 1024 * 1024


def file_of(job: Job) -> FileAsset:
    """The job's file, which must still exist and have its bytes uploaded."""
    if job.file_id is None:
        raise JobParamsError(f"A {job.type} job needs a file; this one has none (deleted?).")
    file = FileAsset.objects.filter(pk=job.file_id).first()
    if file is None:
        raise JobParamsError(f"File {job.file_id} no longer exists.")
    if file.status in (FileAsset.Status.PENDING, FileAsset.Status.FAILED):
        raise JobError(f"File {file.pk} is {file.status}: its bytes are not there to read.")
    return file


@contextmanager
def open_stored(key: str) -> Iterator[IO[bytes]]:
    """The object at `key` in default_storage, opened for reading."""
    try:
        handle = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise JobError(f"The object {key!r} is missing from storage.") from None
    except Exception as exc:
        raise RetryableJobError(f"Storage could not open {key!r}: {exc!r}") from exc
    try:
        yield handle
    finally:
        handle.close()


def read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while True:
        try:
            chunk = handle.read(CHUNK_SIZE)
        except FileNotFoundError:
            raise JobError("The object went missing from storage while being read.") from None
        except OSError as exc:
            raise RetryableJobError(f"Storage failed while reading: {exc!r}") from exc
        if not chunk:
            return
        yield chunk


def replace_stored(key: str, content: IO[bytes]) -> str:
    """Write `content` at exactly `key` (an attempt run again overwrites its own output)."""
    from django.core.files import File

    try:
        if default_storage.exists(key):
            default_storage.delete(key)
        return default_storage.save(key, File(content, name=key))
    except Exception as exc:
        raise RetryableJobError(f"Storage could not save {key!r}: {exc!r}") from exc
