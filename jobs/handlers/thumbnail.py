"""`thumbnail`: a small PNG of an image file, stored as a new file of the same episode.

Params: `size` (the longest side in pixels, default 320). The thumbnail's storage key is
made from the job's id, so an attempt run again replaces its own output instead of adding
a second file.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from files import signals as file_signals
from files.models import FileAsset
from jobs.errors import JobError, JobParamsError
from jobs.handlers._storage import file_of, open_stored, replace_stored
from jobs.models import Job
from jobs.registry import ProgressReporter, register

DEFAULT_SIZE = 320
MIN_SIZE = 16
MAX_SIZE = 2048


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - {"size"})
    if unknown:
        raise JobParamsError(f"Unknown thumbnail params: {', '.join(unknown)}.")
    size = params.get("size", DEFAULT_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise JobParamsError(
            f"params.size must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}."
        )
    return {"size": size}


def thumbnail_key(job: Job, source: FileAsset) -> str:
    return f"episodes/{source.episode_id}/thumbnails/job-{job.pk}.png"


@register("thumbnail", check_params=check_params, needs_file=True)
def thumbnail(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    size = check_params(job.params)["size"]
    source = file_of(job)
    with open_stored(source.storage_key) as handle:
        try:
            with Image.open(handle) as image:
                report_progress(20)
                image = ImageOps.exif_transpose(image)
                image.thumbnail((size, size))
                if image.mode not in ("RGB", "RGBA", "L", "LA"):
                    image = image.convert("RGBA")
                out = io.BytesIO()
                image.save(out, "PNG", optimize=True)
                width, height = image.size
        except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise JobError(f"File {source.pk} ({source.filename}) is not an image: {exc}") from exc
    report_progress(60)
    data = out.getvalue()
    key = replace_stored(thumbnail_key(job, source), io.BytesIO(data))
    report_progress(90)
    made = _record_thumbnail(job, source, key, data, width, height)
    return {
        "file_id": made.pk,
        "storage_key": key,
        "width": width,
        "height": height,
        "size": len(data),
        "source_file_id": source.pk,
    }


def _record_thumbnail(
    job: Job, source: FileAsset, key: str, data: bytes, width: int, height: int
) -> FileAsset:
    stem = source.filename.rsplit(".", 1)[0] or "image"
    with transaction.atomic():
        made, created = FileAsset.objects.update_or_create(
            storage_key=key,
            defaults={
                "episode_id": source.episode_id,
                "filename": f"{stem}-thumbnail.png"[-255:],
                "content_type": "image/png",
                "size": len(data),
                "checksum_sha256": hashlib.sha256(data).hexdigest(),
                "status": FileAsset.Status.PROCESSED,
                "metadata": {
                    "thumbnail_of": source.pk,
                    "job_id": job.pk,
                    "width": width,
                    "height": height,
                },
                "created_by_id": job.created_by_id,
                "uploaded_at": timezone.now(),
            },
        )
        if created:
            file_signals.file_uploaded.send(sender=FileAsset, file=made, actor=None)
    return made
