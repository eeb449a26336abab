"""`media_probe`: size, sha256 and content type of a file's bytes; duration; dimensions.

The content type is sniffed from the bytes (filetype), not taken from the upload. Audio
and video durations come from mutagen, or from ffprobe when mutagen cannot read the
container and ffprobe is installed; image dimensions from Pillow. What it finds is the
job's result and is recorded on the file, which becomes `processed`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from typing import IO, Any

import filetype
import mutagen
import structlog
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from files.models import FileAsset
from jobs.handlers._storage import file_of, open_stored, read_chunks
from jobs.models import Job
from jobs.registry import ProgressReporter, register

logger = structlog.get_logger(__name__)

SNIFF_BYTES = 8192
FFPROBE_TIMEOUT = 120
# Hashing reads every byte: it is most of the work, the rest is parsing headers.
HASHING_SHARE = 90


def ffprobe_path() -> str | None:
    """ffprobe's path, if it is installed (it is optional)."""
    return shutil.which("ffprobe")


@register("media_probe", needs_file=True)
def media_probe(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    file = file_of(job)
    digest = hashlib.sha256()
    head = b""
    size = 0
    expected = max(file.size, 1)
    with open_stored(file.storage_key) as handle:
        for chunk in read_chunks(handle):
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
            report_progress(min(HASHING_SHARE, HASHING_SHARE * size / expected))
        kind = filetype.guess(head) if head else None
        sniffed = kind.mime if kind else None
        result: dict[str, Any] = {
            "size": size,
            "sha256": digest.hexdigest(),
            "content_type": sniffed,
            "declared_content_type": file.content_type,
            "extension": kind.extension if kind else None,
        }
        family = (sniffed or file.content_type).split("/")[0]
        if family in ("audio", "video"):
            result.update(_duration(handle, file.storage_key))
        elif family == "image":
            result.update(_dimensions(handle))
    report_progress(100)
    _record_on_file(file, result)
    return result


def _rewound(handle: IO[bytes]) -> IO[bytes]:
    handle.seek(0)
    return handle


def _duration(handle: IO[bytes], key: str) -> dict[str, Any]:
    try:
        parsed = mutagen.File(_rewound(handle))
    except Exception as exc:  # mutagen raises its own errors and plain ones on bad data
        logger.info("media_probe_mutagen_failed", storage_key=key, error=repr(exc))
        parsed = None
    info = getattr(parsed, "info", None)
    if info is not None and getattr(info, "length", None):
        found: dict[str, Any] = {"duration": round(float(info.length), 3), "probed_by": "mutagen"}
        for name in ("sample_rate", "channels", "bitrate"):
            if getattr(info, name, None):
                found[name] = getattr(info, name)
        return found
    if ffprobe_path() is not None:
        duration = _ffprobe_duration(handle, key)
        if duration is not None:
            return {"duration": duration, "probed_by": "ffprobe"}
    return {"duration": None, "probed_by": None}


def _ffprobe_duration(handle: IO[bytes], key: str) -> float | None:
    """ffprobe reads a path: the local file's, or a temporary copy of a remote object."""
    try:
        local = default_storage.path(key)
    except NotImplementedError:
        local = None
    with tempfile.NamedTemporaryFile(suffix=".probe") as copy:
        if local is None:
            shutil.copyfileobj(_rewound(handle), copy)
            copy.flush()
            local = copy.name
        command = [
            ffprobe_path() or "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "json",
            local,
        ]
        try:
            done = subprocess.run(  # noqa: S603 - a fixed command on a path we made
                command, capture_output=True, timeout=FFPROBE_TIMEOUT, check=False
            )
            duration = json.loads(done.stdout or b"{}").get("format", {}).get("duration")
            return round(float(duration), 3) if duration else None
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            logger.info("media_probe_ffprobe_failed", storage_key=key, error=repr(exc))
            return None


def _dimensions(handle: IO[bytes]) -> dict[str, Any]:
    try:
        with Image.open(_rewound(handle)) as image:
            width, height = image.size
            return {"width": width, "height": height, "image_format": image.format}
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return {"width": None, "height": None}


def _record_on_file(file: FileAsset, result: dict[str, Any]) -> None:
    probe = {
        key: result.get(key)
        for key in ("content_type", "duration", "width", "height", "probed_by")
        if key in result
    }
    with transaction.atomic():
        locked = FileAsset.objects.select_for_update().filter(pk=file.pk).first()
        if locked is None:
            return
        changes: dict[str, Any] = {
            "metadata": {**(locked.metadata or {}), "probe": probe},
            "updated_at": timezone.now(),
        }
        if not locked.checksum_sha256:
            changes["checksum_sha256"] = result["sha256"]
        if locked.status == FileAsset.Status.UPLOADED:
            changes["status"] = FileAsset.Status.PROCESSED
        FileAsset.objects.filter(pk=locked.pk).update(**changes)
