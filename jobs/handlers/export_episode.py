"""`export_episode`: a zip of an episode's JSON and its files, written to storage.

The zip holds `episode.json` (the episode, its compositions and a manifest of its files)
and `files/<id>-<name>` for each uploaded or processed file. File bytes are copied in
chunks through a temporary file and saved with default_storage, so memory stays flat
whatever the files weigh. The result has the zip's storage key and URL.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from typing import Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from episodes.models import Episode
from episodes.serializers import CompositionSerializer, EpisodeSerializer
from files.models import FileAsset
from files.names import key_filename
from jobs.errors import JobParamsError, RetryableJobError
from jobs.handlers._storage import CHUNK_SIZE, open_stored, read_chunks, replace_stored
from jobs.models import Job
from jobs.registry import ProgressReporter, register

EXPORTED_STATUSES = (FileAsset.Status.UPLOADED, FileAsset.Status.PROCESSED)
# Shares of the progress: the JSON first, then the files' bytes, then the upload.
JSON_DONE = 5
FILES_DONE = 90
# Media is compressed already: deflating it again costs time and saves nothing.
COMPRESSED_FAMILIES = ("audio/", "video/", "image/")


def export_key(job: Job) -> str:
    return f"exports/episodes/{job.episode_id}/export-job-{job.pk}.zip"


def _member_name(file: FileAsset) -> str:
    return f"files/{file.pk}-{key_filename(file.filename)}"


def _document(episode: Episode, files: list[FileAsset]) -> dict[str, Any]:
    return {
        "format": "showdesk-episode-export/1",
        "exported_at": timezone.now(),
        "episode": EpisodeSerializer(episode).data,
        "compositions": CompositionSerializer(
            episode.compositions.select_related("created_by", "episode").order_by("id"),
            many=True,
        ).data,
        "files": [
            {
                "id": file.pk,
                "filename": file.filename,
                "content_type": file.content_type,
                "size": file.size,
                "checksum_sha256": file.checksum_sha256,
                "metadata": file.metadata,
                "path": _member_name(file),
            }
            for file in files
        ],
    }


@register("export_episode", needs_episode=True)
def export_episode(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    episode = Episode.objects.filter(pk=job.episode_id).first()
    if episode is None:
        raise JobParamsError(f"Episode {job.episode_id} no longer exists.")
    files = list(episode.files.filter(status__in=EXPORTED_STATUSES).order_by("id"))
    total = max(sum(file.size for file in files), 1)
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            document = json.dumps(_document(episode, files), cls=DjangoJSONEncoder, indent=2)
            archive.writestr("episode.json", document)
            report_progress(JSON_DONE)
            copied = 0
            for file in files:
                copied = _copy_into(archive, file, copied, total, report_progress)
        size = spool.tell()
        spool.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: spool.read(CHUNK_SIZE), b""):
            digest.update(chunk)
        spool.seek(0)
        key = replace_stored(export_key(job), spool)
    report_progress(99)
    try:
        url = default_storage.url(key)
    except Exception as exc:
        raise RetryableJobError(f"Storage could not give a URL for {key!r}: {exc!r}") from exc
    return {
        "storage_key": key,
        "url": url,
        "size": size,
        "sha256": digest.hexdigest(),
        "files": len(files),
        "episode_id": episode.pk,
    }


def _copy_into(
    archive: zipfile.ZipFile,
    file: FileAsset,
    copied: int,
    total: int,
    report_progress: ProgressReporter,
) -> int:
    member = zipfile.ZipInfo(_member_name(file), date_time=file.created_at.timetuple()[:6])
    compressed = file.content_type.startswith(COMPRESSED_FAMILIES)
    member.compress_type = zipfile.ZIP_STORED if compressed else zipfile.ZIP_DEFLATED
    with (
        open_stored(file.storage_key) as handle,
        archive.open(member, "w", force_zip64=True) as out,
    ):
        for chunk in read_chunks(handle):
            out.write(chunk)
            copied += len(chunk)
            report_progress(JSON_DONE + (FILES_DONE - JSON_DONE) * min(copied, total) / total)
    return copied
