"""Bench: a soak of many sockets and writers against one server process, for minutes.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.soak [--quick]
        [--minutes 10] [--sockets 200] [--writers 20] [--write-interval 2]

Each socket (a viewer's session) subscribes to `episodes` and to one `episode:<id>` and
heartbeats every 20 s; each writer PATCHes its episode every --write-interval seconds
through the REST API. The server's resident memory and open file descriptors are sampled
every 10 s, and every event id each socket receives is counted.

It prints a table (minute, RSS, fds, events delivered / expected), then the verdicts: RSS
and fds flat within 10 % from minute 2 to the end, and every event delivered to every
socket that should have it exactly once (what the Event table says its streams carried).
It exits 1 on a lost or doubled event, or a missed goal. Loopback only; bounded in time.
tests/faults/test_soak.py runs the same soak, shortened, in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

BENCH_DATABASE = "showdesk_bench_soak"
BENCH_REDIS_DB = 12
FLAT_TOLERANCE = 0.10
OPEN_CONCURRENCY = 20
OPEN_TIMEOUT = 30.0
HEARTBEAT_EVERY = 20.0
HTTP_TIMEOUT = 10.0
DRAIN_TIMEOUT = 60.0
LAG_EVERY = 50
_TIMESTAMP = '"timestamp":"'


# --- the server process, from the outside ----------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_kib: int
    fds: int
    delivered: int
    # Since the previous sample: the server's CPU (1.0 = one core), the machine's load, and
    # the 99th percentile of the time from an event's commit to its arrival (1 in LAG_EVERY).
    cpu: float = 0.0
    load: float = 0.0
    lag_p99: float = 0.0


@dataclass(frozen=True)
class Target:
    """The server under test: its pid (to sample), its URLs, who writes and who listens."""

    pid: int
    http_url: str
    ws_url: str
    origin: str
    cookies: list[str]  # one socket per cookie: `sessionid=...`
    writer_token: str
    episode_ids: list[int]


# --- sockets -----------------------------------------------------------------------------------


@dataclass
class SoakSocket:
    key: int
    streams: list[str]
    ws: ClientConnection | None = None
    user_id: int = 0
    since: int = 0
    ids: Counter[int] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    closed_with: int | None = None
    reader: asyncio.Task | None = None
    beater: asyncio.Task | None = None

    async def open(self, target: Target, cookie: str) -> None:
        self.ws = await connect(
            f"{target.ws_url}/ws/",
            additional_headers={"Origin": target.origin, "Cookie": cookie},
            open_timeout=OPEN_TIMEOUT,
            ping_interval=None,
            max_queue=None,
            compression=None,
        )
        welcome = orjson.loads(await asyncio.wait_for(self.ws.recv(), OPEN_TIMEOUT))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {welcome}")
        self.user_id = welcome["user"]["id"]
        self.since = welcome["last_event_id"]
        self.streams = [*welcome["streams"], *self.streams]
        for stream in self.streams[len(welcome["streams"]) :]:
            await self.ws.send(orjson.dumps({"type": "subscribe", "stream": stream}).decode())
            while True:
                reply = orjson.loads(await asyncio.wait_for(self.ws.recv(), OPEN_TIMEOUT))
                if reply.get("type") == "event":
                    self.ids[reply["id"]] += 1
                elif reply.get("type") == "subscribed":
                    break
                else:
                    raise RuntimeError(f"subscribe {stream}: {reply}")
        loop = asyncio.get_running_loop()
        self.reader = loop.create_task(self._read())
        self.beater = loop.create_task(self._heartbeat())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                # Events are counted without parsing the rest of the frame.
                if message.startswith('{"type":"event","id":'):
                    end = message.index(",", 21)
                    self.ids[int(message[21:end])] += 1
                    if len(self.ids) % LAG_EVERY == 0:
                        self.lags.append(time.time() - _committed_at(message))
        except ConnectionClosed:
            pass
        finally:
            self.closed_with = self.ws.close_code

    async def _heartbeat(self) -> None:
        assert self.ws is not None
        # Spread over the interval, as clients that opened at different times would be.
        await asyncio.sleep(HEARTBEAT_EVERY * random.random())  # noqa: S311
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.ws.send('{"type":"heartbeat"}')
                await asyncio.sleep(HEARTBEAT_EVERY)

    async def close(self) -> None:
        for task in (self.beater,):
            if task is not None:
                task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


def _committed_at(frame: str) -> float:
    start = frame.rindex(_TIMESTAMP) + len(_TIMESTAMP)
    stamp = frame[start : frame.index('"', start)]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# --- writers -----------------------------------------------------------------------------------


def _patch(url: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode(), method="PATCH"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@dataclass
class Writes:
    done: int = 0
    failed: Counter[int] = field(default_factory=Counter)


async def _write_loop(
    target: Target, number: int, interval: float, until: float, pool, writes: Writes
) -> None:
    loop = asyncio.get_running_loop()
    episode_id = target.episode_ids[number % len(target.episode_ids)]
    url = f"{target.http_url}/api/v1/episodes/{episode_id}/"
    await asyncio.sleep(interval * number / max(1, len(target.episode_ids)) % interval)
    count = 0
    while time.monotonic() < until:
        started = time.monotonic()
        title = f"soak {number}-{count}"
        body = {"title": title}
        status = await loop.run_in_executor(pool, _patch, url, target.writer_token, body)
        count += 1
        if 200 <= status < 300:
            writes.done += 1
        else:
            writes.failed[status] += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


# --- the run -----------------------------------------------------------------------------------


async def _drained(unpublished: Callable[[], Awaitable[int]]) -> None:
    """Until the relay has published every event written so far (or the time is up)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while await unpublished() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


@dataclass
class SoakRun:
    seconds: float
    samples: list[Sample]
    sockets: list[SoakSocket]
    writes: Writes
    open_failures: Counter[str]
    started_at: float  # time.time() when the writers started
    # The events counted: after the last one numbered once every socket had subscribed, up
    # to the last one numbered before they closed (their own joins and leaves are not).
    first_position: int
    last_position: int


async def run_soak(
    target: Target,
    *,
    writers: int,
    seconds: float,
    write_interval: float,
    sample_every: float,
    unpublished: Callable[[], Awaitable[int]],
    last_position: Callable[[], Awaitable[int]],
) -> SoakRun:
    """Open the sockets, write for `seconds` while sampling, then let every event arrive."""
    episodes = target.episode_ids
    sockets = [
        SoakSocket(key, ["episodes", f"episode:{episodes[key % len(episodes)]}"])
        for key in range(len(target.cookies))
    ]
    failures: Counter[str] = Counter()
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def open_one(sock: SoakSocket) -> None:
        async with gate:
            try:
                await sock.open(target, target.cookies[sock.key])
            except Exception as exc:
                failures[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1

    await asyncio.gather(*(open_one(sock) for sock in sockets))
    await _drained(unpublished)
    first = await last_position()
    samples: list[Sample] = []
    writes = Writes()
    start = time.monotonic()
    started_at = time.time()
    until = start + seconds

    last_cpu = [cpu_seconds(target.pid), time.monotonic()]

    def sample() -> None:
        now = time.monotonic()
        cpu = cpu_seconds(target.pid)
        used = (cpu - last_cpu[0]) / max(1e-6, now - last_cpu[1])
        last_cpu[:] = [cpu, now]
        lags = sorted(lag for sock in sockets for lag in sock.lags)
        for sock in sockets:
            sock.lags.clear()
        samples.append(
            Sample(
                seconds=now - start,
                rss_kib=rss_kib(target.pid),
                fds=open_fds(target.pid),
                delivered=sum(sum(sock.ids.values()) for sock in sockets),
                cpu=used,
                load=os.getloadavg()[0],
                lag_p99=lags[int(len(lags) * 0.99)] if lags else 0.0,
            )
        )

    async def sampler() -> None:
        while time.monotonic() < until:
            sample()
            await asyncio.sleep(sample_every)

    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="soak-writer") as pool:
        await asyncio.gather(
            sampler(),
            *(_write_loop(target, n, write_interval, until, pool, writes) for n in range(writers)),
        )
    sample()
    await _drained(unpublished)
    last = await last_position()
    # Frames in flight when the relay finished: a moment to land.
    await asyncio.sleep(2)
    for sock in sockets:
        await sock.close()
    return SoakRun(
        seconds=time.monotonic() - start,
        samples=samples,
        sockets=[sock for sock in sockets if sock.ws],
        writes=writes,
        open_failures=failures,
        started_at=started_at,
        first_position=first,
        last_position=last,
    )


# --- what should have arrived, and the verdicts -----------------------------------------------


@dataclass(frozen=True)
class EventRow:
    position: int
    streams: frozenset[str]
    user_id: int | None
    created_at: float  # epoch seconds


def event_rows(since: int, through: int) -> list[EventRow]:
    """The numbered events in (since, through] (Django must be set up)."""
    from realtime.models import Event

    rows = Event.objects.filter(position__gt=since, position__lte=through).order_by("position")
    return [
        EventRow(row.position, frozenset(row.streams), row.user_id, row.created_at.timestamp())
        for row in rows.only("position", "streams", "user_id", "created_at").iterator()
    ]


def last_position() -> int:
    from realtime.selectors import event_last_position

    return event_last_position()


def unpublished_count() -> int:
    from realtime.models import Event

    return Event.objects.filter(published_at__isnull=True).count()


@dataclass
class Delivery:
    expected: int = 0
    delivered: int = 0
    missing: int = 0
    doubled: int = 0
    unexpected: int = 0
    sockets_with_loss: int = 0
    closed: Counter[str] = field(default_factory=Counter)
    # (epoch seconds of the event, 1) per expected event, to place them in time.
    expected_times: list[float] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.expected > 0 and not (self.missing or self.doubled or self.unexpected)


def check_delivery(run: SoakRun, rows: list[EventRow]) -> Delivery:
    """Each socket against the events its streams carried since its greeting."""
    result = Delivery()
    counted = range(run.first_position + 1, run.last_position + 1)
    for sock in run.sockets:
        streams = frozenset(sock.streams)
        expected = {
            row.position
            for row in rows
            if row.position in counted
            and (row.user_id is None or row.user_id == sock.user_id)
            and streams & row.streams
        }
        result.expected_times.extend(row.created_at for row in rows if row.position in expected)
        ids = {event_id: n for event_id, n in sock.ids.items() if event_id in counted}
        got = set(ids)
        lost = len(expected - got)
        result.expected += len(expected)
        result.delivered += sum(ids.values())
        result.missing += lost
        result.doubled += sum(n - 1 for n in ids.values() if n > 1)
        result.unexpected += len(got - expected)
        result.sockets_with_loss += bool(lost)
        if sock.closed_with not in (None, 1000):
            result.closed[str(sock.closed_with)] += 1
    return result


@dataclass(frozen=True)
class Flatness:
    metric: str
    low: float
    high: float

    @property
    def spread(self) -> float:
        return (self.high - self.low) / self.low if self.low else 0.0

    @property
    def flat(self) -> bool:
        return self.spread <= FLAT_TOLERANCE


def flatness(samples: list[Sample], window_start: float) -> list[Flatness]:
    window = [s for s in samples if s.seconds >= window_start]
    if not window:
        raise ValueError("no sample in the window")
    return [
        Flatness("RSS", min(s.rss_kib for s in window), max(s.rss_kib for s in window)),
        Flatness("open fds", min(s.fds for s in window), max(s.fds for s in window)),
    ]


def table(run: SoakRun, delivery: Delivery, *, row_every: float) -> str:
    """One row per `row_every` seconds: RSS and fds at its end, the server's mean CPU, the
    machine's highest load and the worst lag in it, events delivered / expected so far."""
    lines = [
        f"{'minute':>6} | {'RSS MiB':>8} | {'fds':>5} | {'CPU':>4} | {'load':>4} | "
        f"{'lag p99':>7} | events delivered / expected"
    ]
    lines.append("-" * len(lines[0]))
    buckets: dict[int, list[Sample]] = {}
    for sample in run.samples:
        buckets.setdefault(int(sample.seconds // row_every), []).append(sample)
    for bucket in buckets.values():
        last = bucket[-1]
        cutoff = run.started_at + last.seconds
        expected = sum(1 for at in delivery.expected_times if at <= cutoff)
        lines.append(
            f"{last.seconds / 60:6.2f} | {last.rss_kib / 1024:8.1f} | {last.fds:5d} | "
            f"{sum(s.cpu for s in bucket) / len(bucket):4.2f} | "
            f"{max(s.load for s in bucket):4.1f} | "
            f"{max(s.lag_p99 for s in bucket) * 1000:5.0f}ms | {last.delivered} / {expected}"
        )
    lines.append(
        f"{'end':>6} | {'':8} | {'':5} | {'':4} | {'':4} | {'':7} | "
        f"{delivery.delivered} / {delivery.expected}"
    )
    return "\n".join(lines)


# --- the bench's own process -----------------------------------------------------------------


def __getattr__(name: str) -> Any:
    """`compact_dedupe_application`: the project's ASGI application (in the server process)
    with the consumer's set of delivered ids replaced by realtime.outgoing.DeliveredIds."""
    if name != "compact_dedupe_application":
        raise AttributeError(name)
    from config.asgi import application
    from realtime import consumers, outgoing

    consumers.DeliveredIds = outgoing.DeliveredIds
    return application


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 minutes, 50 sockets, 5 writers")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--write-interval", type=float, default=2.0, help="seconds per writer")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--flat-from", type=float, default=2.0, help="minute the window opens")
    parser.add_argument(
        "--compact-dedupe",
        action="store_true",
        help="serve with the consumer using realtime.outgoing.DeliveredIds (a bit per id) "
        "in place of its own set of the last 4,096 ids, to measure the change",
    )
    parser.add_argument("--database", default=BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.sockets, args.writers, args.sample_every = 2.0, 50, 5, 5.0
        args.flat_from = 0.5
    if not 0 < args.minutes <= 60 or not 0 < args.sockets <= 5000 or not 0 < args.writers <= 200:
        parser.error("bounded: at most 60 minutes, 5,000 sockets and 200 writers")
    return args


def main(argv: list[str] | None = None) -> int:
    from bench import _ws_setup as ws

    args = _arguments(argv)
    db_url, redis_url = ws.bench_urls(args.database, args.redis_db)
    ws.prepare_services(db_url, redis_url)
    ws.setup_django(db_url, redis_url, relay_mode="command")
    ws.file_limit()
    from rest_framework.authtoken.models import Token

    seed = ws.seed(users=args.sockets, episodes=args.writers)
    token = Token.objects.create(user_id=seed.actor_id).key
    # Production settings, but plain HTTP on loopback (no redirect to HTTPS).
    https_off = {"SECURE_SSL_REDIRECT": "false"}
    app = "bench.soak:compact_dedupe_application" if args.compact_dedupe else ws.PROJECT_APP
    with ws.run_server(
        "uvicorn", db_url, redis_url, layer="pubsub", deflate=False, extra_env=https_off, app=app
    ) as server:
        target = Target(
            pid=server.pid,
            http_url=server.origin,
            ws_url=server.ws_url.removesuffix("/ws/"),
            origin=server.origin,
            cookies=[f"sessionid={key}" for key in seed.sessions],
            writer_token=token,
            episode_ids=seed.episode_ids,
        )

        async def unpublished() -> int:
            return await asyncio.to_thread(unpublished_count)

        async def position() -> int:
            return await asyncio.to_thread(last_position)

        run = asyncio.run(
            run_soak(
                target,
                writers=args.writers,
                seconds=args.minutes * 60,
                write_interval=args.write_interval,
                sample_every=args.sample_every,
                unpublished=unpublished,
                last_position=position,
            )
        )
    delivery = check_delivery(run, event_rows(run.first_position, run.last_position))
    flat = flatness(run.samples, args.flat_from * 60)
    print(table(run, delivery, row_every=60.0))
    print()
    print(
        f"sockets {len(run.sockets)} opened ({sum(run.open_failures.values())} failed), "
        f"writes {run.writes.done} ok, {sum(run.writes.failed.values())} failed "
        f"{dict(run.writes.failed)}; closed early {dict(delivery.closed)}; "
        f"server errors logged: {ws.error_summary(dict(server.errors))}"
    )
    for item in flat:
        verdict = "flat" if item.flat else "NOT FLAT"
        print(
            f"{item.metric} from minute {args.flat_from:g}: {item.low:.0f} .. {item.high:.0f} "
            f"({item.spread * 100:.1f} %, goal <= {FLAT_TOLERANCE * 100:.0f} %): {verdict}"
        )
    print(
        f"delivery: {delivery.delivered} of {delivery.expected} expected, {delivery.missing} "
        f"missing ({delivery.sockets_with_loss} sockets), {delivery.doubled} doubled, "
        f"{delivery.unexpected} unexpected: {'exactly once' if delivery.exact else 'LOSS'}"
    )
    ok = delivery.exact and all(item.flat for item in flat) and not run.open_failures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
