"""Small real media made by the tests (no ffmpeg here): a WAV by `wave`, a PNG by Pillow."""

from __future__ import annotations

import io
import math
import struct
import wave

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from files.models import FileAsset
from files.names import storage_key


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a 440 Hz tone."""
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 10)).save(out, "PNG")
    return out.getvalue()


def stored_file(
    episode,
    filename: str,
    content_type: str,
    data: bytes,
    *,
    status: str = FileAsset.Status.UPLOADED,
) -> FileAsset:
    """A file of `episode` whose bytes are in default_storage, as an upload leaves it."""
    key = storage_key(episode.pk, filename)
    saved = default_storage.save(key, ContentFile(data))
    return FileAsset.objects.create(
        episode=episode,
        filename=filename,
        storage_key=saved,
        content_type=content_type,
        size=len(data),
        status=status,
        uploaded_at=timezone.now() if status != FileAsset.Status.PENDING else None,
    )
