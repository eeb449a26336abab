"""What one socket connection needs from the rest of the system, kept out of the consumer.

Its greeting (`connection_info`), the replay of a `resume` (`Replay`), what it is viewing
and editing (`Viewing`, which turns presence transitions into `viewer_joined`,
`viewer_updated` and `viewer_left` events), the state of a job it subscribes to
(`job_snapshot`), and the per-process sweeper that notices connections that died without a
close frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Any

import structlog
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction

from accounts.roles import user_roles
from realtime import events, flags, presence, selectors, streams
from realtime.relay import encode_frame
from realtime.services import events_emit

logger = structlog.get_logger(__name__)

PRESENCE_STREAM_TYPES = frozenset({"episode", "composition"})
REPLAY_PAGE = 500
EDITING_PREFIX = "editing:"


def editing_stream(stream: str) -> str:
    """The stream of the connections editing a resource: `episode:42` -> `editing:episode:42`.

    Not subscribable (it is not a stream name `streams.parse` accepts): a connection is in
    it while it has said `editing` on the resource's stream. It carries `revision_saved`.
    """
    return f"{EDITING_PREFIX}{stream}"


def is_presence_stream(stream: str) -> bool:
    parsed = streams.parse(stream)
    return parsed is not None and parsed[0] in PRESENCE_STREAM_TYPES and parsed[1] is not None


def job_snapshot(job_id: int) -> dict[str, Any] | None:
    """A job as REST shows it, plus `next_retry_at`: what a late subscriber starts from."""
    from jobs.models import Job
    from jobs.serializers import JobSerializer

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    return {**JobSerializer(job).data, "next_retry_at": events.iso(job.next_retry_at)}


@dataclass(frozen=True)
class ConnectionInfo:
    user: dict[str, Any]
    streams: list[str]
    last_event_id: int


def connection_info(*, user: Any) -> ConnectionInfo | None:
    """The greeting of an authenticated user with a role; None means close with 4401."""
    roles = user_roles(user)
    if not roles:
        return None
    joined = [streams.user(user.pk), *(streams.role(role) for role in roles), "broadcast"]
    return ConnectionInfo(
        user={"id": user.pk, "username": user.get_username(), "roles": roles},
        streams=joined,
        last_event_id=selectors.event_last_position(),
    )


def is_resource_stream(stream: str) -> bool:
    parsed = streams.parse(stream)
    return parsed is not None and parsed[0] in streams.RESOURCE_TYPES and parsed[1] is not None


class Replay:
    """The events after `since` that the user may see on the connection's streams, by page.

    Numbered events are replayed whether or not the relay has published them yet: a client
    that resumes while Redis is down still gets what was committed. Their live copies, if any
    come later, are dropped by the consumer as already delivered.
    """

    def __init__(self, *, user: Any, streams: frozenset[str], since: int) -> None:
        self.user = user
        self.streams = streams
        self.since = since

    def too_old(self) -> bool:
        return self.since < selectors.event_pruned_through()

    def next_page(self) -> list[tuple[int, str]] | None:
        """The next page of (id, frame), possibly empty; None once nothing is left."""
        rows = selectors.events_since(user=self.user, since=self.since, limit=REPLAY_PAGE)
        if not rows:
            return None
        self.since = rows[-1].position
        page = []
        for row in rows:
            stream = next((name for name in row.streams if name in self.streams), None)
            if stream is not None:
                page.append((row.position, encode_frame(row, stream)))
        return page


def viewer_event_emit(
    name: str,
    resource_type: str,
    resource_id: int,
    user: dict[str, Any],
    viewers: list,
    state: str | None = None,
) -> None:
    """`viewer_joined`/`viewer_left`, or `viewer_updated` (with the user's new `state`)."""
    spec = events.viewer_changed(name, resource_type, resource_id, user, viewers)
    if state is not None:
        spec = replace(spec, data={**spec.data, "state": state})
    try:
        with transaction.atomic():
            events_emit([spec])
    except Exception as exc:
        logger.warning("viewer_event_failed", event=name, error=repr(exc), stream=spec.streams[0])


class Viewing:
    """The resources one connection is viewing, in presence, with their viewer events.

    It also knows whether the connection is `editing` each of them (`states`), and says so
    again with every refresh, so that a connection swept while it was busy comes back
    editing.
    """

    def __init__(self, *, user: Any, connection_id: str) -> None:
        self.user_ref = {"id": user.pk, "username": user.get_username()}
        self.connection_id = connection_id
        self.states: dict[str, str] = {}

    @staticmethod
    def _resource(stream: str) -> tuple[str, int] | None:
        parsed = streams.parse(stream)
        if parsed is None or parsed[0] not in PRESENCE_STREAM_TYPES or parsed[1] is None:
            return None
        return parsed[0], int(parsed[1])

    def is_editing(self, stream: str) -> bool:
        return self.states.get(stream) == presence.EDITING

    async def _announce(self, resource: tuple[str, int], transition: presence.Transition) -> None:
        """The viewer event a touch or leave calls for, if any."""
        if transition.joined or transition.left:
            name = "viewer_joined" if transition.joined else "viewer_left"
            await database_sync_to_async(viewer_event_emit)(
                name, *resource, self.user_ref, transition.viewers
            )
        elif transition.state_changed:
            await database_sync_to_async(viewer_event_emit)(
                "viewer_updated",
                *resource,
                self.user_ref,
                transition.viewers,
                transition.state_of(self.user_ref["id"]),
            )

    async def join(self, stream: str) -> list[dict[str, Any]]:
        """Touch presence; the viewers after it (empty when presence is off or down)."""
        return await self._touch(stream, self.states.get(stream))

    async def _touch(self, stream: str, state: str | None) -> list[dict[str, Any]]:
        resource = self._resource(stream)
        if resource is None or not flags.presence_tracking():
            return []
        try:
            transition = await presence.touch(
                *resource,
                user_id=self.user_ref["id"],
                username=self.user_ref["username"],
                connection_id=self.connection_id,
                ttl=settings.PRESENCE_SOCKET_TTL,
                state=state,
            )
        except presence.PresenceUnavailable as exc:
            logger.warning("presence_unavailable", stream=stream, error=repr(exc))
            return []
        await self._announce(resource, transition)
        return transition.viewers

    async def refresh(self, stream: str) -> None:
        await self.join(stream)

    async def set_state(self, stream: str, state: str) -> list[dict[str, Any]]:
        """Mark this connection viewing or editing the resource; the viewers after it."""
        self.states[stream] = state
        return await self._touch(stream, state)

    async def leave(self, stream: str) -> None:
        self.states.pop(stream, None)
        resource = self._resource(stream)
        if resource is None or not flags.presence_tracking():
            return
        try:
            transition = await presence.leave(
                *resource, user_id=self.user_ref["id"], connection_id=self.connection_id
            )
        except presence.PresenceUnavailable as exc:
            logger.warning("presence_unavailable", stream=stream, error=repr(exc))
            return
        await self._announce(resource, transition)


async def sweep_once() -> int:
    """Remove connections that stopped heartbeating; announce users who left. Returns count."""
    departures = await presence.sweep()
    for gone in departures:
        user = {"id": gone.user_id, "username": gone.username}
        if gone.left:
            await database_sync_to_async(viewer_event_emit)(
                "viewer_left", gone.resource_type, gone.resource_id, user, gone.viewers_after
            )
        else:
            await database_sync_to_async(viewer_event_emit)(
                "viewer_updated",
                gone.resource_type,
                gone.resource_id,
                user,
                gone.viewers_after,
                presence.VIEWING,
            )
    return len(departures)


async def _sweep_forever(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep_once()
        except Exception as exc:
            logger.warning("presence_sweep_failed", error=repr(exc))


_sweepers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def ensure_sweeper() -> None:
    """Start this process's sweeper on the running loop, once (PRESENCE_SWEEP_INTERVAL=0: off)."""
    interval = settings.PRESENCE_SWEEP_INTERVAL
    if not interval:
        return
    loop = asyncio.get_running_loop()
    task = _sweepers.get(loop)
    if task is None or task.done():
        for stale in [key for key in _sweepers if key.is_closed()]:
            with contextlib.suppress(KeyError):
                del _sweepers[stale]
        _sweepers[loop] = loop.create_task(_sweep_forever(interval))
