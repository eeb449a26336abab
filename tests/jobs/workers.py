"""Real brokers and workers for job tests: Redis, SQS (moto's server), worker threads/processes.

`use_broker` points the Celery app (and the jobs settings) at a broker with queues of their
own, so runs never see each other's messages; `worker_thread` runs a worker in this process
(it sees the test database through its own connection, so tests are transactional);
`worker_process` runs `celery -A config worker` on the test database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
# Every wait on a worker is bounded by this (seconds).
WAIT = 15.0
SQS_KEY = "testing"
SQS_REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"


@dataclass
class Broker:
    """A broker and the queue names a test uses on it."""

    kind: str  # "redis" or "sqs"
    url: str
    queue: str
    dead_queue: str
    transport_options: dict[str, Any] = field(default_factory=dict)
    # Environment of a worker process on this broker.
    env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_broker_url() -> str:
    """REDIS_URL on the next database number: the broker's keys stay out of the cache's."""
    parts = urlsplit(settings.REDIS_URL)
    number = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 1) % 16}"))


def unique_queues() -> tuple[str, str]:
    name = f"jobs-test-{uuid.uuid4().hex[:10]}"
    return name, f"{name}-dead"


def redis_broker() -> Broker:
    queue, dead = unique_queues()
    options = {
        "visibility_timeout": 3,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    env = {
        "CELERY_BROKER_URL": redis_broker_url(),
        "JOBS_VISIBILITY_TIMEOUT": "3",
        "JOBS_REDIS_RESTORE_INTERVAL": "1",
    }
    return Broker("redis", redis_broker_url(), queue, dead, options, env)


class Moto:
    """moto's server mode on 127.0.0.1, emptied between tests."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def reset(self) -> None:
        url = f"{self.endpoint}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - our own server
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own local server
            pass

    def broker(self) -> Broker:
        queue, dead = unique_queues()
        url = f"sqs://{SQS_KEY}:{SQS_KEY}@127.0.0.1:{self.port}"
        prefix = f"{self.endpoint}/{MOTO_ACCOUNT}"
        options = {
            "region": SQS_REGION,
            "is_secure": False,
            "wait_time_seconds": 1,
            "polling_interval": 0.05,
            "visibility_timeout": 3,
            "predefined_queues": {name: {"url": f"{prefix}/{name}"} for name in (queue, dead)},
        }
        env = {
            "CELERY_BROKER_URL": url,
            "JOBS_SQS_QUEUE_URL_PREFIX": prefix,
            "JOBS_SQS_REGION": SQS_REGION,
            "JOBS_SQS_SECURE": "false",
            "JOBS_SQS_WAIT_TIME": "1",
            "JOBS_SQS_POLLING_INTERVAL": "0.05",
            "JOBS_VISIBILITY_TIMEOUT": "3",
            "AWS_ACCESS_KEY_ID": SQS_KEY,
            "AWS_SECRET_ACCESS_KEY": SQS_KEY,
        }
        return Broker("sqs", url, queue, dead, options, env)


def _reset_pools() -> None:
    """Forget the connections and producers of the previous broker (kombu keeps them)."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def use_broker(broker: Broker, django_settings: Any) -> Iterator[Broker]:
    """The Celery app and the jobs settings on `broker`, for the length of the block."""
    changes = {
        "broker_url": broker.url,
        "broker_transport_options": broker.transport_options,
        "task_always_eager": False,
        "task_default_queue": broker.queue,
        "worker_enable_remote_control": False,
        "worker_send_task_events": False,
        "broker_connection_retry_on_startup": True,
    }
    previous = {key: celery_app.conf.get(key) for key in changes}
    django_settings.JOBS_QUEUE = broker.queue
    django_settings.JOBS_DEAD_QUEUE = broker.dead_queue
    django_settings.JOBS_DISPATCH = True
    django_settings.JOBS_VISIBILITY_TIMEOUT = broker.transport_options["visibility_timeout"]
    celery_app.conf.update(changes)
    _reset_pools()
    try:
        yield broker
    finally:
        celery_app.conf.update(previous)
        _reset_pools()


@contextmanager
def worker_thread(broker: Broker) -> Iterator[Any]:
    """A Celery worker (solo pool) in a thread of this process, consuming the test's queue."""
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=WAIT,
        queues=[broker.queue],
    ) as worker:
        yield worker


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(broker: Broker, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DEBUG="true",
        LOG_LEVEL="WARNING",
        JOBS_QUEUE=broker.queue,
        JOBS_DEAD_QUEUE=broker.dead_queue,
        JOBS_DISPATCH="true",
        JOBS_EXTRA_HANDLER_MODULES="tests.jobs.handlers",
        **broker.env,
    )
    env.update(overrides)
    return env


@contextmanager
def worker_process(broker: Broker, *, pool: str = "prefork", **env: str) -> Iterator[Any]:
    """`celery -A config worker` on the test database and the test's queue, one process."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-P",
        pool,
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
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    # A session of its own: the worker and its pool processes are stopped together, at once
    # (the test is over; a warm shutdown would only add seconds).
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=worker_env(broker, **env), start_new_session=True
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)


def wait_for(check: Callable[[], Any], timeout: float = WAIT, interval: float = 0.05) -> Any:
    """The first truthy value of `check()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {check}")
        time.sleep(interval)
