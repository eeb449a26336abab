"""A real Showdesk server process (uvicorn) on 127.0.0.1 for tests that need real sockets.

It serves the test database (PostgreSQL's test_<name>, or the SQLite test file) and the
same Redis, so a test that commits data (transaction=True) sees the server act on it. Also
the clients that talk to it: JSON over HTTP (`Api`) and a WebSocket (`open_socket`).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0
# The bound of every wait on the server: one HTTP call, one frame, one reply.
WAIT = 5.0


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int
    process: subprocess.Popen
    # Where its output goes, when started by `run_logged_servers` (else: the test's output).
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DEBUG="true",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def _wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz in time")


def _start(env_overrides: dict[str, str], log: Path | None = None) -> LiveServer:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    if log is None:
        process = subprocess.Popen(command, cwd=ROOT, env=server_env(**env_overrides))  # noqa: S603
        return LiveServer("127.0.0.1", port, process)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=server_env(**env_overrides), stdout=out, stderr=out
        )
    return LiveServer("127.0.0.1", port, process, log)


def _stop(servers: list[LiveServer]) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@contextmanager
def run_servers(count: int, **env_overrides: str) -> Iterator[list[LiveServer]]:
    """`count` server processes on the same database and Redis, started side by side."""
    servers: list[LiveServer] = []
    try:
        for _ in range(count):
            servers.append(_start(env_overrides))
        for server in servers:
            _wait_ready(server)
        yield servers
    finally:
        _stop(servers)


@contextmanager
def run_logged_servers(count: int, logs: Path, **env_overrides: str) -> Iterator[list[LiveServer]]:
    """`run_servers`, each process writing its output (JSON log lines) to `logs`/server-N.log.

    `log_problems(server)` then lists what it logged as an error or an unhandled exception.
    """
    logs.mkdir(parents=True, exist_ok=True)
    env = {"LOG_FORMAT": "json", **env_overrides}
    servers: list[LiveServer] = []
    try:
        for index in range(count):
            servers.append(_start(env, logs / f"server-{index}.log"))
        for server in servers:
            _wait_ready(server)
        yield servers
    finally:
        _stop(servers)


# uvicorn reports an exception that escaped the application in its own (plain text) format.
_UNHANDLED_MARKERS = ("Traceback (most recent call last)", "Exception in ASGI application")


def log_size(server: LiveServer) -> int:
    """How far the server's log goes now: `log_problems(since=...)` reads only what follows."""
    if server.log is None:
        raise ValueError("the server was not started by run_logged_servers")
    return server.log.stat().st_size


def log_problems(server: LiveServer, *, allowed: tuple[str, ...] = (), since: int = 0) -> list[str]:
    """Lines of the server's log at level error or above, or reporting an unhandled exception.

    `allowed` are the starts of log events (the `event` of a JSON line) the test expects;
    `since` a `log_size` taken earlier.
    """
    if server.log is None:
        raise ValueError("the server was not started by run_logged_servers")
    with server.log.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    problems = []
    for line in text.splitlines():
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None
        if not isinstance(record, dict):
            if any(marker in line for marker in _UNHANDLED_MARKERS):
                problems.append(line)
            continue
        serious = record.get("level") in {"error", "critical"} or "exception" in record
        if serious and not str(record.get("event")).startswith(allowed or ("\0",)):
            problems.append(line[:2000])
    return problems


@contextmanager
def run_server(**env_overrides: str) -> Iterator[LiveServer]:
    """One server process; `env_overrides` are its settings' environment variables."""
    with run_servers(1, **env_overrides) as (server,):
        yield server


# --- Talking to it ------------------------------------------------------------------------


def session_cookie(user: Any) -> str:
    """A `Cookie` header of a signed-in session, stored in the database the server reads."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def api_token(user: Any) -> str:
    """The user's API token, made in the shared database."""
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@cache
def _server_password_hash(password: str) -> str:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt())


def set_server_password(user: Any, password: str) -> None:
    """A password the server can check: tests hash with MD5, which the server does not know."""
    user.password = _server_password_hash(password)
    user.save(update_fields=["password"])


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


class Api:
    """JSON over HTTP to a live server, as the holder of `token` (or anonymous)."""

    def __init__(self, server: LiveServer, token: str | None = None) -> None:
        self.server = server
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.server.url}{path}", data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _json(error.read()))

    async def get(self, path: str) -> Reply:
        return await asyncio.to_thread(self.call, "GET", path)

    async def post(self, path: str, body: Any = None) -> Reply:
        return await asyncio.to_thread(self.call, "POST", path, body)

    async def patch(self, path: str, body: Any) -> Reply:
        return await asyncio.to_thread(self.call, "PATCH", path, body)

    async def delete(self, path: str) -> Reply:
        return await asyncio.to_thread(self.call, "DELETE", path)


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


@dataclass
class Socket:
    """One client WebSocket; every frame it has received is kept, in order, in `frames`."""

    connection: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    welcome: dict[str, Any] = field(default_factory=dict)
    # Streams it is a viewer of (the `subscribed` reply listed viewers).
    viewing: set[str] = field(default_factory=set)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> dict[str, Any]:
        """The next frame that matches, reading (and keeping) the others on the way."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame within {timeout} s; got {self.frames}")
            frame = await self.receive(remaining)
            if match(frame):
                return frame

    async def event(self, name: str, timeout: float = WAIT, **data: Any) -> dict[str, Any]:
        """The next `name` event whose data has these values."""
        return await self.until(
            lambda frame: (
                frame["type"] == "event"
                and frame["event"] == name
                and all(frame["data"].get(key) == value for key, value in data.items())
            ),
            timeout,
        )

    async def reply(self, frame: dict[str, Any], *types: str) -> dict[str, Any]:
        """Send a frame, then the next frame of one of `types` (events may come before)."""
        await self.send(frame)
        return await self.until(lambda got: got["type"] in types)

    async def subscribe(self, stream: str) -> dict[str, Any]:
        reply = await self.reply({"type": "subscribe", "stream": stream}, "subscribed", "error")
        if reply["type"] == "subscribed" and "viewers" in reply:
            self.viewing.add(stream)
        return reply

    async def unsubscribe(self, stream: str) -> dict[str, Any]:
        reply = await self.reply({"type": "unsubscribe", "stream": stream}, "unsubscribed", "error")
        self.viewing.discard(stream)
        return reply

    async def stop_viewing(self) -> None:
        """Unsubscribe from what it views and wait for the replies, if it is still open.

        The server writes `viewer_left` before it replies. Left to the close, that write
        could run while the test's database is being flushed, and on PostgreSQL the
        TRUNCATE and that commit's foreign-key check deadlock.
        """
        with suppress(ConnectionClosed, TimeoutError):
            for stream in sorted(self.viewing):
                await self.unsubscribe(stream)

    def events(self, name: str) -> list[dict[str, Any]]:
        """The `name` events received so far."""
        return [f for f in self.frames if f["type"] == "event" and f["event"] == name]


@asynccontextmanager
async def open_socket(
    server: LiveServer,
    *,
    cookie: str | None = None,
    ticket: str | None = None,
    origin: str | None = None,
    welcome: bool = True,
) -> AsyncIterator[Socket]:
    """A socket to /ws/ by session cookie (Origin: the server's own unless given) or ticket.

    With `welcome`, the greeting has been read into `socket.welcome`.
    """
    headers = {"Origin": origin or server.url}
    if cookie:
        headers["Cookie"] = cookie
    query = f"?ticket={ticket}" if ticket is not None else ""
    async with connect(
        f"{server.ws_url}/ws/{query}", additional_headers=headers, open_timeout=WAIT
    ) as connection:
        opened = Socket(connection)
        if welcome:
            opened.welcome = await opened.until(lambda frame: frame["type"] == "welcome")
        try:
            yield opened
        finally:
            await opened.stop_viewing()
