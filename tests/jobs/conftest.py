"""Fixtures of the job tests: files in a storage of their own, quick retries, test handlers."""

from __future__ import annotations

import pytest

from tests.jobs import fixtures

broker = fixtures.broker
redis_only_broker = fixtures.redis_only_broker
jobs_settings = fixtures.jobs_settings


@pytest.fixture
def dispatching(settings) -> None:
    """Jobs queued are sent on: here, with no broker, run in-process once committed."""
    settings.JOBS_DISPATCH = True
