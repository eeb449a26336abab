"""Bench: job latencies, printed as a table.

1. A job's state change, from its commit to a socket subscribed to `job:<id>` receiving the
   event (the server's channel layer on Redis): goal p99 < 50 ms.
2. A job queued, from its commit to a worker starting it (`started_at`), on each broker:
   Redis, and SQS in moto's server mode.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/showdesk REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.jobs_latency

It works in a PostgreSQL database of its own (`showdesk_bench_jobs`: created and migrated if
missing, flushed on every run) on the server DATABASE_URL names, and in Redis databases of
its own (flushed on every run): BENCH_REDIS_DB for the channel layer and cache, the next one
for the broker. Servers, workers and moto listen on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench._db import prepare_database
from bench._table import Row as TableRow
from bench._table import percentile, verdict

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BENCH_DATABASE = "showdesk_bench_jobs"
BENCH_REDIS_DB = 14
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "psql"})
GOAL_P99_MS = 50.0
START_TIMEOUT = 30.0
WAIT = 10.0
SQS_KEY = "bench"
MAX_CHANGES = 5_000
MAX_JOBS = 500
MOTO_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Row:
    measure: str
    path: str
    samples: list[float]
    goal_ms: float | None = None

    def cells(self) -> tuple[str, ...]:
        ordered = sorted(self.samples)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        goal = f"p99 < {self.goal_ms:.0f} ms" if self.goal_ms else "-"
        result = "-" if self.goal_ms is None else ("pass" if p99 < self.goal_ms else "FAIL")
        return (
            self.measure,
            self.path,
            str(len(ordered)),
            f"{p50:.1f}",
            f"{p99:.1f}",
            f"{ordered[-1]:.1f}",
            goal,
            result,
        )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs_latency", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="60 changes, 5 jobs, no SQS")
    parser.add_argument("--changes", type=int, default=0, help="state changes to time (300)")
    parser.add_argument("--jobs", type=int, default=0, help="jobs per broker to time (50)")
    parser.add_argument("--no-sqs", action="store_true", help="time the Redis broker only")
    parser.add_argument("--database", default=BENCH_DATABASE, help="the bench's own database")
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    parser.add_argument(
        "--broker-redis-db", type=int, default=None, help="the broker's (default: --redis-db + 1)"
    )
    parser.add_argument(
        "--sqs-polling-interval",
        type=float,
        default=None,
        help="the SQS worker's polling_interval (default: the settings' JOBS_SQS_*)",
    )
    args = parser.parse_args(argv)
    args.changes = args.changes or (60 if args.quick else 300)
    args.jobs = args.jobs or (5 if args.quick else 50)
    if not 1 <= args.changes <= MAX_CHANGES or not 1 <= args.jobs <= MAX_JOBS:
        parser.error(f"at most {MAX_CHANGES} changes and {MAX_JOBS} jobs")
    if args.quick:
        args.no_sqs = True
    if args.broker_redis_db is None:
        args.broker_redis_db = args.redis_db + 1
    if "bench" not in args.database:
        parser.error("the bench's database name must contain 'bench'")
    return args


# --- services --------------------------------------------------------------------------------


def _urls(database: str, redis_db: int, broker_db: int) -> tuple[str, str, str]:
    """The bench's DATABASE_URL, REDIS_URL (layer, cache) and broker URL."""
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url or not redis_url:
        raise SystemExit("DATABASE_URL (PostgreSQL) and REDIS_URL are both required.")
    parts = urlsplit(db_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise SystemExit(f"The bench runs on PostgreSQL only, not {parts.scheme!r}.")
    if parts.path.lstrip("/") == database:
        raise SystemExit("DATABASE_URL must name the project's database, not the bench's.")
    redis_parts = urlsplit(redis_url)
    return (
        urlunsplit(parts._replace(path=f"/{database}")),
        urlunsplit(redis_parts._replace(path=f"/{redis_db}")),
        urlunsplit(redis_parts._replace(path=f"/{broker_db}")),
    )


def _prepare(db_url: str, redis_url: str, broker_url: str) -> None:
    import redis

    prepare_database(db_url, _env(db_url, redis_url))
    for url in (redis_url, broker_url):
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()


def _env(db_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench._ws_settings",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        DEBUG="true",
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL="",
    )
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A child process in a session of its own, stopped with all its children."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=WAIT)


def _wait(check: Callable[[], Any], timeout: float = WAIT, interval: float = 0.002) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"Gave up waiting after {timeout} s: {check}")
        time.sleep(interval)


@contextlib.contextmanager
def _server(db_url: str, redis_url: str) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
    ]
    with _process(command, _env(db_url, redis_url)) as process:
        url = f"http://{HOST}:{port}"

        def ready() -> bool:
            if process.poll() is not None:
                raise SystemExit("The server exited.")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310
                    return True
            except OSError:
                return False

        _wait(ready, START_TIMEOUT, 0.1)
        yield url


# --- 1. commit → socket ------------------------------------------------------------------------


class SocketWatcher:
    """A client socket in a thread of its own; each event is kept with the moment it came."""

    def __init__(self, url: str, cookie: str, stream: str) -> None:
        self.url, self.cookie, self.stream = url, cookie, stream
        self.received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie, "Origin": self.url}
        ws_url = self.url.replace("http://", "ws://") + "/ws/"
        async with connect(ws_url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "subscribe", "stream": self.stream}))
            while not self.stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.2)
                except TimeoutError:
                    continue
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") == "subscribed":
                    self.ready.set()
                elif frame.get("type") == "event":
                    self.received.put((now, frame))

    def __enter__(self) -> SocketWatcher:
        self.thread.start()
        if not self.ready.wait(WAIT):
            raise SystemExit("The socket was not subscribed in time.")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT)

    def next_event(self, name: str) -> float:
        """When the next event of the stream arrived (it must be `name`)."""
        at, frame = self.received.get(timeout=WAIT)
        if frame["event"] != name:
            raise SystemExit(f"Expected {name}, got {frame['event']}.")
        return at


def _timed_commit(change: Callable[[], Any]) -> float:
    """Run a service; the moment its transaction committed (the first on-commit hook)."""
    from django.db import transaction

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        change()
    return committed[0]


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create(username=username)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def commit_to_socket(url: str, changes: int) -> list[float]:
    """Milliseconds from each commit to its event on the socket, one change at a time."""
    from django.conf import settings
    from django.test import Client

    from common.actor import acting_as
    from jobs import services
    from jobs.models import Job

    editor = _user("bench-editor", "editors")
    client = Client()
    client.force_login(_user("bench-watcher", "viewers"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # The bench drives the job's states itself: nothing runs it.
    settings.JOBS_DISPATCH = False
    job = services.job_enqueue(type="search_index", actor=editor, max_attempts=changes + 10)
    samples: list[float] = []
    with SocketWatcher(url, cookie, f"job:{job.pk}") as watcher, acting_as(None):
        # queued → running → retrying → running …: each commit is one event on the stream.
        for number in range(changes):
            job = Job.objects.get(pk=job.pk)
            if number % 2 == 0:
                committed = _timed_commit(lambda job=job: services.job_start(job=job))
                samples.append(watcher.next_event("job_started") - committed)
            else:
                committed = _timed_commit(
                    lambda job=job: services.job_fail(job=job, error="bench", retryable=True)
                )
                samples.append(watcher.next_event("job_retry") - committed)
    return [seconds * 1000 for seconds in samples]


# --- 2. enqueue → start ------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerSetup:
    name: str
    url: str
    queue: str
    dead_queue: str
    transport_options: dict[str, Any]
    env: dict[str, str]


def _redis_broker(url: str) -> BrokerSetup:
    name = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    return BrokerSetup("redis", url, name, f"{name}-dead", {}, {"CELERY_BROKER_URL": url})


def _sqs_broker(port: int, polling_interval: float | None) -> BrokerSetup:
    from django.conf import settings

    name = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    url = f"sqs://{SQS_KEY}:{SQS_KEY}@{HOST}:{port}"
    prefix = f"http://{HOST}:{port}/{MOTO_ACCOUNT}"
    interval = settings.JOBS_SQS_POLLING_INTERVAL if polling_interval is None else polling_interval
    options = {
        "region": "us-east-1",
        "is_secure": False,
        "wait_time_seconds": settings.JOBS_SQS_WAIT_TIME,
        "polling_interval": interval,
        "predefined_queues": {q: {"url": f"{prefix}/{q}"} for q in (name, f"{name}-dead")},
    }
    env = {
        "CELERY_BROKER_URL": url,
        "JOBS_SQS_QUEUE_URL_PREFIX": prefix,
        "JOBS_SQS_SECURE": "false",
        "JOBS_SQS_POLLING_INTERVAL": str(interval),
        "AWS_ACCESS_KEY_ID": SQS_KEY,
        "AWS_SECRET_ACCESS_KEY": SQS_KEY,
    }
    return BrokerSetup(
        f"sqs (moto), polling_interval={interval:g} s", url, name, f"{name}-dead", options, env
    )


@contextlib.contextmanager
def _celery_on(broker: BrokerSetup) -> Iterator[None]:
    from django.conf import settings
    from kombu import pools

    from config.celery import app

    settings.JOBS_QUEUE, settings.JOBS_DEAD_QUEUE = broker.queue, broker.dead_queue
    settings.JOBS_DISPATCH = True
    app.conf.update(
        broker_url=broker.url,
        broker_transport_options=broker.transport_options,
        task_always_eager=False,
        task_default_queue=broker.queue,
    )
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None


def enqueue_to_start(db_url: str, redis_url: str, broker: BrokerSetup, jobs: int) -> list[float]:
    from django.db import transaction

    from episodes.models import Episode
    from jobs import services
    from jobs.models import Job

    episode = Episode.objects.create(
        title=f"Bench {broker.queue}", episode_number=Episode.objects.count() + 1
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "--quiet",
        "worker",
        "-P",
        "prefork",
        "-c",
        "1",
        "-Q",
        broker.queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
        "-n",
        f"{broker.queue}@%h",
    ]
    env = _env(
        db_url, redis_url, JOBS_QUEUE=broker.queue, JOBS_DEAD_QUEUE=broker.dead_queue, **broker.env
    )
    samples: list[float] = []
    with _celery_on(broker), _process(command, env):
        for number in range(jobs + 3):  # the first three warm the worker up
            committed: list[float] = []
            with transaction.atomic():
                transaction.on_commit(lambda done=committed: done.append(time.time()))
                job = services.job_enqueue(type="search_index", actor=None, episode=episode)
            started = _wait(
                lambda job=job: (
                    Job.objects.filter(pk=job.pk, started_at__isnull=False)
                    .values_list("started_at", flat=True)
                    .first()
                ),
                START_TIMEOUT if number == 0 else WAIT,
            )
            _wait(lambda job=job: Job.objects.get(pk=job.pk).is_finished)
            if number >= 3:
                samples.append((started.timestamp() - committed[0]) * 1000)
    return samples


@contextlib.contextmanager
def _moto() -> Iterator[int]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()


def _print(rows: list[Row]) -> None:
    header = ("measure", "path", "n", "p50 ms", "p99 ms", "max ms", "goal", "result")
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for number, line in enumerate(table):
        cells = zip(line, widths, strict=True)
        lines.append(" | ".join(cell.ljust(width) for cell, width in cells))
        if number == 0:
            lines.append("-+-".join("-" * width for width in widths))
    sys.stdout.write("\n".join(lines) + "\n")


def measure(args: argparse.Namespace) -> list[Row]:
    db_url, redis_url, broker_url = _urls(args.database, args.redis_db, args.broker_redis_db)
    _prepare(db_url, redis_url, broker_url)
    os.environ.update(_env(db_url, redis_url))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["NAME"] != args.database:
        raise SystemExit("Refusing to run: the settings do not point at the bench database.")
    call_command("flush", verbosity=0, interactive=False)
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    rows: list[Row] = []
    with _server(db_url, redis_url) as url:
        rows.append(
            Row(
                "commit -> socket",
                f"Redis ({layer}), relay {settings.REALTIME_RELAY_MODE}",
                commit_to_socket(url, args.changes),
                GOAL_P99_MS,
            )
        )
    rows.append(
        Row(
            "enqueue -> start",
            "redis",
            enqueue_to_start(db_url, redis_url, _redis_broker(broker_url), args.jobs),
        )
    )
    if args.no_sqs:
        return rows
    with _moto() as port:
        from jobs.brokers import sqs_setup_queues

        for interval in dict.fromkeys([args.sqs_polling_interval, 0.0]):
            broker = _sqs_broker(port, interval)
            with _celery_on(broker):
                sqs_setup_queues(broker.url)
            samples = enqueue_to_start(db_url, redis_url, broker, args.jobs)
            rows.append(Row("enqueue -> start", broker.name, samples))
    return rows


def rows(argv: list[str] | None = None) -> list[TableRow]:
    """The summary for `python -m bench`: commit to socket (the goal), enqueue to start."""
    args = _arguments(["--no-sqs", *(argv or [])])
    out = []
    for row in measure(args):
        ordered = sorted(row.samples)
        p50, p99 = statistics.median(ordered), percentile(ordered, 99)
        figure = f"{p50:.1f} / {p99:.1f} ms ({len(ordered)} samples, max {ordered[-1]:.1f} ms)"
        if row.goal_ms:
            out.append(
                TableRow(
                    "job events: state change commit to subscribed socket p50 / p99",
                    figure,
                    f"p99 < {row.goal_ms:.0f} ms",
                    verdict(p99 < row.goal_ms) if not args.quick else "",
                )
            )
        else:
            out.append(
                TableRow(
                    f"job queued: commit to a worker starting it ({row.path} broker) p50 / p99",
                    figure,
                )
            )
    return out


def main(argv: list[str] | None = None) -> None:
    _print(measure(_arguments(argv)))


if __name__ == "__main__":
    main()
