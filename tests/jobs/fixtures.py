"""Fixtures shared by tests/jobs and tests/integration/test_jobs_*: import them by name."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Iterator

import pytest

from tests.jobs.workers import Broker, Moto, redis_broker, use_broker

_moto: Moto | None = None


def moto_server() -> Moto:
    """One moto server for the whole run, started on first use."""
    global _moto
    if _moto is None:
        # One line per request, on every poll of every worker: not worth reading.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _moto = Moto()
        _moto.start()
        atexit.register(_moto.stop)
    return _moto


@pytest.fixture(autouse=True)
def jobs_settings(settings, tmp_path) -> None:
    """Files in a folder of the test's own; retries a few ms apart; the tests' job types."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOBS_RETRY_BACKOFF = 0.01
    settings.JOBS_RETRY_BACKOFF_MAX = 0.05
    settings.JOBS_HANDLER_MODULES = [*settings.JOBS_HANDLER_MODULES, "tests.jobs.handlers"]


@pytest.fixture(
    params=[pytest.param("redis", marks=pytest.mark.redis), pytest.param("sqs")],
)
def broker(request, settings) -> Iterator[Broker]:
    """The Celery app on a real broker (Redis, or SQS in moto's server) with fresh queues."""
    if request.param == "redis":
        with use_broker(redis_broker(), settings) as used:
            yield used
        return
    from jobs.brokers import sqs_setup_queues

    moto = moto_server()
    moto.reset()
    with use_broker(moto.broker(), settings) as used:
        sqs_setup_queues(used.url)
        yield used


@pytest.fixture
def redis_only_broker(settings) -> Iterator[Broker]:
    """The Celery app on Redis only (mark the test `redis`)."""
    with use_broker(redis_broker(), settings) as used:
        yield used


# kombu's SQS transport calls pycurl functions that pycurl deprecates (nothing to act on here).
SQS_WARNINGS = pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.asynchronous.http.curl")
