"""Fixtures of the fault tests: a Redis server of the test's own, users and their clients.

Server processes run `tests.faults.server_settings` with a channel-layer prefix of their
own. The test process publishes nothing itself (REALTIME_RELAY_MODE=command): every event
goes out through a server's relay, as in production.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.conftest import _missing_service_is_failure
from tests.factories import EpisodeFactory, UserFactory
from tests.live_server import _free_port, api_token, session_cookie

START_TIMEOUT = 10.0


@pytest.fixture
def isolated(settings) -> dict[str, str]:
    """Environment of server processes whose channel layer no other process shares."""
    settings.REALTIME_RELAY_MODE = "command"
    return {
        "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
        "SHOWDESK_TEST_LAYER_PREFIX": f"faults{uuid.uuid4().hex[:10]}",
        # Backlogs go out soon after a failure is over, not 2 s later.
        "REALTIME_RELAY_INTERVAL": "0.5",
    }


@dataclass
class PrivateRedis:
    """A redis-server on a free loopback port, for this test alone: no disk, no persistence."""

    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self.process = subprocess.Popen(command)  # noqa: S603
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing answers (a hung server)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def shut_down(self) -> None:
        """Stopped for good: connections are refused until `start` again, on the same port."""
        self.kill()

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=START_TIMEOUT)
        self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if _missing_service_is_failure():
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def ana_token(ana) -> str:
    return api_token(ana)


@pytest.fixture
def viewers(transactional_db) -> list:
    return [UserFactory(username=name, roles=["viewers"]) for name in ("bo", "cy", "di")]


@pytest.fixture
def cookies(viewers) -> dict[str, str]:
    return {user.username: session_cookie(user) for user in viewers}


@pytest.fixture
def tokens(viewers) -> dict[str, str]:
    return {user.username: api_token(user) for user in viewers}


@pytest.fixture
def episodes(transactional_db) -> list:
    return [EpisodeFactory(title=f"Take {n}") for n in range(3)]


def pids_alive(*pids: int) -> list[int]:
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            alive.append(pid)
    return alive
