"""Bench: a socket that resumes after missing 10,000 events, replayed from the outbox.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.resume [--quick]

The bench writes 10,000 committed, numbered `episode_updated` events on `episodes` (each
with a real episode payload), then a socket subscribed to `episodes` sends
`{"type": "resume", "last_event_id": 0}` and reads until `resumed`: every event must
arrive once, in id order. Figure: events per second from the resume frame sent to the
`resumed` frame received, one socket, one server process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import orjson

from bench import _ws_setup as ws
from bench._table import Row, Table, verdict

MAX_EVENTS = 100_000
REPLAY_TIMEOUT = 120.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.resume", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two replays instead of five")
    parser.add_argument("--events", type=int, default=10_000, help="missed events")
    parser.add_argument("--replays", type=int, default=0, help="replays, each on a new socket")
    parser.add_argument("--database", default=ws.BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    args.replays = args.replays or (2 if args.quick else 5)
    if not 1 <= args.events <= MAX_EVENTS or not 1 <= args.replays <= 50:
        parser.error(f"at most {MAX_EVENTS} events and 50 replays")
    return args


def _write_events(count: int, episode_id: int, actor_id: int) -> int:
    """`count` events as the relay leaves them (numbered, published); the frame's size."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from episodes.models import Episode
    from realtime import events
    from realtime.models import Event
    from realtime.relay import encode_frame

    episode = Episode.objects.get(pk=episode_id)
    actor = get_user_model().objects.get(pk=actor_id)
    spec = events.episode_updated(episode, ["title"], actor)
    now = timezone.now()
    Event.objects.bulk_create(
        (
            Event(
                event=spec.event,
                streams=["episodes"],
                data=spec.data,
                position=number,
                published_at=now,
                created_at=now,
            )
            for number in range(1, count + 1)
        ),
        batch_size=2_000,
    )
    return len(encode_frame(Event.objects.get(position=1), "episodes"))


async def _replay(server: ws.Server, session: str, expected: int) -> dict:
    from websockets.asyncio.client import connect

    async with connect(
        server.ws_url,
        origin=server.origin,
        additional_headers={"Cookie": f"sessionid={session}"},
        compression=None,
        max_size=2**22,
        max_queue=None,
    ) as socket:
        welcome = orjson.loads(await socket.recv())
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {welcome}")
        await socket.send(orjson.dumps({"type": "subscribe", "stream": "episodes"}).decode())
        reply = orjson.loads(await socket.recv())
        if reply.get("type") != "subscribed":
            raise RuntimeError(f"subscribe: {reply}")
        start = time.perf_counter()
        await socket.send(orjson.dumps({"type": "resume", "last_event_id": 0}).decode())
        ids: list[int] = []
        first = 0.0
        while True:
            frame = orjson.loads(await socket.recv())
            if frame.get("type") == "event":
                if not ids:
                    first = time.perf_counter() - start
                ids.append(frame["id"])
            elif frame.get("type") == "resumed":
                seconds = time.perf_counter() - start
                break
            else:
                raise RuntimeError(f"unexpected frame during the replay: {frame}")
    in_order = ids == sorted(set(ids))
    return {
        "seconds": seconds,
        "first": first,
        "received": len(ids),
        "complete": in_order and len(ids) == expected and frame.get("count") == expected,
    }


def measure(args: argparse.Namespace) -> dict:
    urls = ws.bench_urls(args.database, args.redis_db)
    ws.prepare_services(*urls)
    ws.setup_django(*urls)
    seed = ws.seed(users=1, episodes=1)
    frame_bytes = _write_events(args.events, seed.episode_ids[0], seed.actor_id)
    replays = []
    started = time.monotonic()
    with ws.run_server("uvicorn", *urls, layer="pubsub", deflate=False) as server:
        for _ in range(args.replays):
            replays.append(
                asyncio.run(
                    asyncio.wait_for(_replay(server, seed.sessions[0], args.events), REPLAY_TIMEOUT)
                )
            )
    return {
        "replays": replays,
        "frame_bytes": frame_bytes,
        "errors": dict(server.errors),
        "seconds": time.monotonic() - started,
    }


def _rows(args: argparse.Namespace, result: dict) -> list[Row]:
    replays = result["replays"]
    rates = [r["received"] / r["seconds"] for r in replays]
    complete = all(r["complete"] for r in replays)
    first = statistics.median(r["first"] for r in replays)
    out = [
        Row(
            f"resume: {args.events:,} missed events replayed to one socket, events/s",
            f"{statistics.median(rates):,.0f}/s median of {len(rates)} (best "
            f"{max(rates):,.0f}/s; first event after {first * 1000:.0f} ms; "
            f"{result['frame_bytes']:,} B frames)",
            "every event once, in order",
            verdict(complete),
        )
    ]
    if result["errors"]:
        out.append(Row("resume: exceptions in the server log", ws.error_summary(result["errors"])))
    return out


def rows(argv: list[str] | None = None) -> list[Row]:
    args = _arguments(argv)
    return _rows(args, measure(args))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    result = measure(args)
    table = Table("resume: replay of missed events to one socket (uvicorn, pubsub layer)")
    table.rows += _rows(args, result)
    for number, replay in enumerate(result["replays"], 1):
        table.add(
            f"  replay {number}",
            f"{replay['received']:,} events in {replay['seconds']:.2f} s",
        )
    table.notes += [ws.machine_note(), f"wall time {result['seconds']:.0f} s"]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
