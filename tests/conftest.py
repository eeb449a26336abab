"""Fixtures shared by the whole suite, and the rule for tests that need a real service.

A test marked `postgres`, `redis` or `browser` (Debian's Chromium at /usr/bin/chromium) is
skipped where that service is missing, and fails instead when CI=true, unless the run is the
deliberate embedded pass (SHOWDESK_EMBEDDED=1), which checks that the project works with no
services at all (the browser is not a service of the project: CI always has it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")

SERVICES: dict[str, Callable[[], bool]] = {
    "postgres": lambda: django_settings.IS_POSTGRES,
    "redis": lambda: bool(django_settings.REDIS_URL),
    "browser": CHROMIUM.exists,
}
SERVICE_NAMES = {"browser": f"Chromium at {CHROMIUM} (apt-get install chromium)"}


def _missing_service_is_failure(name: str = "") -> bool:
    if os.environ.get("CI") != "true":
        return False
    return name == "browser" or os.environ.get("SHOWDESK_EMBEDDED") != "1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, available in SERVICES.items():
        if item.get_closest_marker(name) and not available():
            reason = f"needs {SERVICE_NAMES.get(name, name)}, which is not configured"
            if _missing_service_is_failure(name):
                pytest.fail(f"CI run without a service the suite needs: {reason}")
            pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """A SQLite test database in a file, not in memory, so a live server process can share it."""
    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture
def live_server_process(transactional_db):
    """A real uvicorn process serving the test database (for real-socket tests)."""
    from tests.live_server import run_server

    with run_server() as server:
        yield server


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings) -> None:
    from django.core.cache import cache

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Publish in the committing thread: a relay thread would outlive the test's database.
    settings.REALTIME_RELAY_MODE = "inline"
    # No presence sweeper task left running on a test's event loop when it closes.
    settings.PRESENCE_SWEEP_INTERVAL = 0
    # Jobs stay queued unless a test runs them (tests/jobs turns dispatch on where it tests it).
    settings.JOBS_DISPATCH = False
    # Presence of its own: the in-memory store outlives a test, and ids repeat across tests.
    settings.PRESENCE_KEY_PREFIX = f"presence-test-{uuid.uuid4().hex[:12]}"
    cache.clear()


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera", roles=["viewers"])


@pytest.fixture
def editor(db):
    return UserFactory(username="ed", roles=["editors"])


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", roles=["admins"])


@pytest.fixture
def outsider(db):
    """Signed in, but with no role at all."""
    return UserFactory(username="olga")


@pytest.fixture
def api_client_for() -> Callable:
    """A session-authenticated API client for a user (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()
