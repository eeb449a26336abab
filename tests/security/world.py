"""A small Showdesk with one of everything, made through the services, for the security tests.

Users of each role (and a second user of each), with API tokens; episodes in each status,
compositions, uploaded and pending files, jobs in several states, notifications for
everyone. Ids are kept by kind so that a test (or the fuzzer) can aim at rows that exist.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from rest_framework.authtoken.models import Token

from episodes import services as episodes
from files import services as files
from jobs import services as jobs
from jobs.models import Job
from realtime.models import Notification
from tests.factories import UserFactory

ROLES = {"admin": "admins", "editor": "editors", "viewer": "viewers"}
FILE_BYTES = b"\x00\x00\x00\x18ftypmp42 fake video"


@dataclass
class World:
    users: dict[str, Any]
    tokens: dict[str, str]
    # Ids by kind ("episode": [...]), and by name ("draft", "dead_job", "notification:vera").
    ids: dict[str, list[int]] = field(default_factory=dict)
    named: dict[str, int] = field(default_factory=dict)


def _user(name: str, role: str | None) -> Any:
    return UserFactory(username=name, roles=[role] if role else [])


def build_world() -> World:
    users = {name: _user(name, group) for name, group in ROLES.items()}
    users.update({f"{name}2": _user(f"{name}2", group) for name, group in ROLES.items()})
    users["norole"] = _user("norole", None)
    tokens = {name: Token.objects.get_or_create(user=user)[0].key for name, user in users.items()}
    editor = users["editor"]

    draft = episodes.episode_create(actor=editor, title="Draft", episode_number=1, season=1)
    published = episodes.episode_create(actor=editor, title="Live", episode_number=2, season=1)
    episodes.episode_publish(episode=published, actor=editor)
    archived = episodes.episode_create(actor=editor, title="Old", episode_number=3, season=1)
    episodes.episode_publish(episode=archived, actor=editor)
    episodes.episode_archive(episode=archived, actor=editor)
    cut = episodes.composition_create(episode=draft, actor=editor, name="Cut", layout={"a": 1})

    uploaded = files.file_create_upload(
        episode=draft,
        filename="take.mp4",
        content_type="video/mp4",
        size=len(FILE_BYTES),
        actor=editor,
    )
    files.file_receive_upload(
        file=uploaded,
        stream=io.BytesIO(FILE_BYTES),
        content_type="video/mp4",
        content_length=len(FILE_BYTES),
        actor=editor,
    )
    uploaded = files.file_complete_upload(file=uploaded, actor=editor)
    pending = files.file_create_upload(
        episode=published, filename="later.wav", content_type="audio/wav", size=4, actor=editor
    )

    queued = jobs.job_enqueue(type="search_index", actor=editor, episode=draft)
    failed = jobs.job_enqueue(type="media_probe", actor=editor, episode=draft, file=uploaded)
    Job.objects.filter(pk=failed.pk).update(
        status=Job.Status.FAILED, error="unsupported", finished_at=timezone.now()
    )
    dead = jobs.job_enqueue(type="search_index", actor=editor, episode=published)
    Job.objects.filter(pk=dead.pk).update(
        status=Job.Status.DEAD, attempts=3, error="boom", finished_at=timezone.now()
    )

    world = World(users=users, tokens=tokens)
    world.ids = {
        "episode": [draft.pk, published.pk, archived.pk],
        "composition": [cut.pk],
        "file": [uploaded.pk, pending.pk],
        "job": [queued.pk, failed.pk, dead.pk],
        "user": [user.pk for user in users.values()],
    }
    world.ids["notification"] = list(
        Notification.objects.order_by("id").values_list("id", flat=True)
    )
    world.named = {
        "draft": draft.pk,
        "published": published.pk,
        "archived": archived.pk,
        "composition": cut.pk,
        "uploaded_file": uploaded.pk,
        "pending_file": pending.pk,
        "queued_job": queued.pk,
        "failed_job": failed.pk,
        "dead_job": dead.pk,
    }
    for name, user in users.items():
        mine = Notification.objects.filter(user=user).order_by("id").first()
        if mine is not None:
            world.named[f"notification:{name}"] = mine.pk
    return world
