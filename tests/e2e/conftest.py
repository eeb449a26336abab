"""Fixtures of the browser tests: Debian's Chromium driven by Playwright (never a downloaded
browser), a real desk server, and the people who use it.

Playwright's async API runs on the module's event loop, so that the ORM (through
`database_sync_to_async`, as in tests/integration) never runs inside a running loop.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.db import connections
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.conftest import CHROMIUM
from tests.factories import EpisodeFactory, UserFactory
from tests.live_server import ROOT, LiveServer, _wait_ready, run_server, server_env, session_cookie

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The bound of every wait in a browser test (ms): a page, an element, a live change.
WAIT_MS = 10_000
# Where the screenshots go for review (ignored by git).
OUTPUT = ROOT / "test-output" / "e2e"

expect.set_options(timeout=WAIT_MS)


def desk_env() -> dict[str, str]:
    """The server's settings: jobs in-process whatever the environment says, presence of its
    own, and REST presence short enough that a user who leaves is seen leaving."""
    return {
        "CELERY_BROKER_URL": "",
        "PRESENCE_KEY_PREFIX": f"presence-e2e-{uuid.uuid4().hex[:12]}",
        "PRESENCE_TTL": "1",
        "PRESENCE_SWEEP_INTERVAL": "0.5",
    }


@pytest.fixture(scope="module")
def desk_server(django_db_setup) -> Iterator[LiveServer]:
    with run_server(**desk_env()) as live:
        yield live


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        yield launched
        await launched.close()


@dataclass
class Desk:
    """Opens the desk in the browser, signed in as a user (or not), one context per user."""

    browser: Browser
    server: LiveServer
    contexts: list[BrowserContext] = field(default_factory=list)

    async def context(self, user=None) -> BrowserContext:
        context = await self.browser.new_context(viewport={"width": 1200, "height": 860})
        context.set_default_timeout(WAIT_MS)
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            name, value = cookie.split("=", 1)
            await context.add_cookies([{"name": name, "value": value, "url": self.server.url}])
        self.contexts.append(context)
        return context

    async def open(self, user=None, fragment: str = "#/", *, tab_of: Page | None = None) -> Page:
        """A tab on the desk, as `user` or in the context of another tab (`tab_of`); signed
        in, it waits until the page's socket is open."""
        context = tab_of.context if tab_of is not None else await self.context(user)
        page = await context.new_page()
        await page.goto(f"{self.server.url}/{fragment}")
        if user is not None or tab_of is not None:
            await expect(page.locator(".desk")).to_have_attribute("data-connection", "open")
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def desk(browser, desk_server) -> AsyncIterator[Desk]:
    opened = Desk(browser, desk_server)
    yield opened
    await opened.close()


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def _close_thread_connections(request) -> AsyncIterator[None]:
    """The ORM thread's connection is closed after each test: left open (CONN_MAX_AGE), it
    would keep PostgreSQL from dropping the test database at the end of the run."""
    yield
    if "transactional_db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        await database_sync_to_async(connections.close_all)()


def episode_page(episode) -> str:
    return f"#/episodes/{episode.pk}"


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


@pytest.fixture
def bo(transactional_db):
    return UserFactory(username="bo", roles=["viewers"])


@pytest.fixture
def episode(transactional_db):
    return EpisodeFactory(
        title="Pilot",
        episode_number=1,
        season=1,
        description="The season opens: a newsroom, a storm, and a signal nobody can trace.",
    )


# --- a server that can be killed and started again on the same port -------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RestartableServer:
    """A uvicorn process on a fixed port, to kill (no goodbye to its sockets) and start again."""

    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.env = env
        self.live: LiveServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]
        process = subprocess.Popen(command, cwd=ROOT, env=server_env(**self.env))  # noqa: S603
        self.live = LiveServer("127.0.0.1", self.port, process)
        _wait_ready(self.live)
        return self.live

    def kill(self) -> None:
        if self.live is not None:
            self.live.process.kill()
            self.live.process.wait(timeout=10)
            self.live = None


@pytest.fixture
def restartable_server(transactional_db) -> Iterator[RestartableServer]:
    """Stopped before the test's data is flushed: a flush waits for its open transactions."""
    server = RestartableServer(free_port(), desk_env())
    server.start()
    try:
        yield server
    finally:
        server.kill()


def output_path(name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / name
