"""The shipped handlers on real small media: what each returns, stores and reports."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from files.models import FileAsset
from jobs.errors import JobError, JobParamsError
from jobs.handlers import media_probe as media_probe_module
from jobs.handlers.export_episode import export_episode
from jobs.handlers.media_probe import media_probe
from jobs.handlers.search_index import search_index
from jobs.handlers.thumbnail import thumbnail
from jobs.models import Job
from tests.factories import CompositionFactory, EpisodeFactory
from tests.jobs.media import png_bytes, stored_file, wav_bytes

pytestmark = pytest.mark.django_db


class Progress:
    """A `report_progress` that keeps what it was told."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, percent: float) -> None:
        self.values.append(percent)


@pytest.fixture
def episode():
    return EpisodeFactory(title="Pilot", description="The first one.")


def _job(type: str, episode, file=None, **params) -> Job:
    return Job.objects.create(type=type, episode=episode, file=file, params=params, attempts=1)


def test_a_wav_is_probed_for_its_size_hash_type_and_duration(episode):
    data = wav_bytes(seconds=0.5, rate=8000)
    file = stored_file(episode, "tone.wav", "audio/wav", data)
    result = media_probe(_job("media_probe", episode, file), Progress())
    assert result == {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_type": "audio/x-wav",
        "declared_content_type": "audio/wav",
        "extension": "wav",
        "duration": 0.5,
        "probed_by": "mutagen",
        "sample_rate": 8000,
        "channels": 1,
        "bitrate": 128000,
    }


def test_a_png_is_probed_for_its_dimensions(episode):
    file = stored_file(episode, "still.png", "image/png", png_bytes(64, 48))
    result = media_probe(_job("media_probe", episode, file), Progress())
    assert (result["content_type"], result["width"], result["height"]) == ("image/png", 64, 48)
    assert "duration" not in result


def test_the_probe_records_its_findings_on_the_file(episode):
    data = wav_bytes()
    file = stored_file(episode, "tone.wav", "audio/wav", data)
    media_probe(_job("media_probe", episode, file), Progress())
    file.refresh_from_db()
    assert file.status == FileAsset.Status.PROCESSED
    assert file.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert file.metadata["probe"] == {
        "content_type": "audio/x-wav",
        "duration": 0.5,
        "probed_by": "mutagen",
    }


def test_the_probe_reports_growing_progress_up_to_100(episode):
    file = stored_file(episode, "tone.wav", "audio/wav", wav_bytes())
    progress = Progress()
    media_probe(_job("media_probe", episode, file), progress)
    assert progress.values == sorted(progress.values)
    assert progress.values[-1] == 100


def test_bytes_of_no_known_type_are_probed_without_a_type(episode):
    file = stored_file(episode, "notes.wav", "audio/wav", b"just some text, not audio")
    result = media_probe(_job("media_probe", episode, file), Progress())
    assert (result["content_type"], result["duration"], result["probed_by"]) == (
        None,
        None,
        None,
    )
    assert result["size"] == len(b"just some text, not audio")


def test_ffprobe_gives_the_duration_mutagen_cannot_read(episode, tmp_path, monkeypatch):
    # ffprobe is not installed on this machine: a stand-in answers as it would.
    fake = tmp_path / "ffprobe"
    fake.write_text('#!/bin/sh\necho \'{"format": {"duration": "12.500000"}}\'\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(media_probe_module, "ffprobe_path", lambda: str(fake))
    file = stored_file(episode, "clip.mkv", "video/x-matroska", b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    result = media_probe(_job("media_probe", episode, file), Progress())
    assert (result["duration"], result["probed_by"]) == (12.5, "ffprobe")


def test_a_probe_of_a_missing_object_fails_for_good(episode):
    file = stored_file(episode, "tone.wav", "audio/wav", wav_bytes())
    default_storage.delete(file.storage_key)
    with pytest.raises(JobError, match="missing from storage"):
        media_probe(_job("media_probe", episode, file), Progress())


def test_a_thumbnail_is_stored_as_a_new_file_of_the_episode(episode):
    source = stored_file(episode, "still.png", "image/png", png_bytes(64, 48))
    job = _job("thumbnail", episode, source, size=32)
    result = thumbnail(job, Progress())
    made = FileAsset.objects.get(pk=result["file_id"])
    with default_storage.open(made.storage_key) as stored:
        data = stored.read()
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (32, 24))
    assert (made.episode, made.filename, made.content_type) == (
        episode,
        "still-thumbnail.png",
        "image/png",
    )
    assert (made.size, made.checksum_sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert made.status == FileAsset.Status.PROCESSED
    assert made.metadata == {"thumbnail_of": source.pk, "job_id": job.pk, "width": 32, "height": 24}
    assert (result["width"], result["height"], result["source_file_id"]) == (32, 24, source.pk)


def test_a_thumbnail_made_again_replaces_its_own_file(episode):
    source = stored_file(episode, "still.png", "image/png", png_bytes(64, 48))
    job = _job("thumbnail", episode, source, size=32)
    first = thumbnail(job, Progress())
    second = thumbnail(job, Progress())
    assert first["file_id"] == second["file_id"]
    assert FileAsset.objects.filter(metadata__thumbnail_of=source.pk).count() == 1


def test_a_thumbnail_of_audio_fails_for_good(episode):
    source = stored_file(episode, "tone.wav", "audio/wav", wav_bytes())
    with pytest.raises(JobError, match=r"tone\.wav\) is not an image"):
        thumbnail(_job("thumbnail", episode, source), Progress())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"size": 8}, "params.size must be a whole number of pixels from 16 to 2048."),
        ({"size": "big"}, "params.size must be a whole number of pixels from 16 to 2048."),
        ({"colour": "red"}, "Unknown thumbnail params: colour."),
    ],
)
def test_thumbnail_params_are_checked(episode, params, message):
    source = stored_file(episode, "still.png", "image/png", png_bytes())
    with pytest.raises(JobParamsError) as raised:
        thumbnail(_job("thumbnail", episode, source, **params), Progress())
    assert str(raised.value) == message


def test_search_index_records_what_it_indexed(episode):
    CompositionFactory(episode=episode)
    result = search_index(_job("search_index", episode), Progress())
    assert result["episode_id"] == episode.pk
    assert result["backend"] is None
    assert result["indexed"] == {"title_chars": 5, "description_chars": 14, "compositions": 1}
    assert result["indexed_at"]


def test_an_export_zips_the_episode_json_and_its_files(episode):
    CompositionFactory(episode=episode, name="Cold open")
    audio = wav_bytes()
    tone = stored_file(episode, "tone.wav", "audio/wav", audio)
    stored_file(episode, "half.png", "image/png", png_bytes(), status=FileAsset.Status.PENDING)
    job = _job("export_episode", episode)
    result = export_episode(job, Progress())
    with default_storage.open(result["storage_key"]) as stored:
        data = stored.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    member = f"files/{tone.pk}-tone.wav"
    assert sorted(archive.namelist()) == ["episode.json", member]
    assert archive.read(member) == audio
    document = json.loads(archive.read("episode.json"))
    assert document["episode"]["title"] == "Pilot"
    assert [c["name"] for c in document["compositions"]] == ["Cold open"]
    assert [(f["id"], f["path"]) for f in document["files"]] == [(tone.pk, member)]
    assert result["url"] == default_storage.url(result["storage_key"])
    assert (result["size"], result["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert result["files"] == 1


def test_an_export_reports_its_progress_as_it_copies(episode):
    stored_file(episode, "tone.wav", "audio/wav", wav_bytes())
    progress = Progress()
    export_episode(_job("export_episode", episode), progress)
    assert progress.values == sorted(progress.values)
    assert len(progress.values) >= 3
