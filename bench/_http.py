"""What the REST benches share: a production-like server process and timed requests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from bench import _ws_setup as ws

API = "/api/v1"


@contextlib.contextmanager
def api_server(
    db_url: str, redis_url: str, *, label: str = "", extra_env: dict[str, str] | None = None
) -> Iterator[ws.Server]:
    """One uvicorn process as served in production (DEBUG=false, the project's layer),
    reached over plain HTTP on 127.0.0.1: no redirect to HTTPS."""
    env = {"SECURE_SSL_REDIRECT": "false", **(extra_env or {})}
    with ws.run_server(
        "uvicorn",
        db_url,
        redis_url,
        layer="pubsub",
        deflate=False,
        relay_mode="thread",
        extra_env=env,
        label=label,
    ) as server:
        yield server


def api_token(user_id: int) -> str:
    """A REST token for the user (in the Django of this process)."""
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user_id=user_id)[0].key


def timed(client: Any, method: str, url: str, expect: int, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, response) of one request with an httpx client; a surprise status raises."""
    start = time.perf_counter()
    response = client.request(method, url, **kwargs)
    seconds = time.perf_counter() - start
    if response.status_code != expect:
        raise RuntimeError(
            f"{method} {url} answered {response.status_code}, not {expect}: {response.text[:300]}"
        )
    return seconds, response
