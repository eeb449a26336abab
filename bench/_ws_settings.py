"""The project's settings for the WebSocket benches, with a channel-layer key prefix of their own.

Redis pub/sub channels ignore the database number: the prefix (with the number in it) keeps
the benches' groups apart from any test run or other bench run sharing the Redis server
(and their traffic out of the figures). Every bench's server and bench process uses it.
With BENCH_REDIS_CLIENT_FIX=1 the layer's Redis client gets the two options redis-py 8
no longer defaults to (a socket timeout longer than BZPOPMIN's 5 s, an unbounded pool), to
measure the layer as it behaves once the project sets them.
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

BENCH_LAYER_PREFIX = "benchws"
FIXED_SOCKET_TIMEOUT = 10
FIXED_MAX_CONNECTIONS = 2**16

if REDIS_URL:
    # With the database number: two bench runs on two Redis databases stay apart.
    _number = REDIS_URL.rstrip("/").rsplit("/", 1)[-1]
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = (
        f"{BENCH_LAYER_PREFIX}{_number}" if _number.isdigit() else BENCH_LAYER_PREFIX
    )
    if os.environ.get("BENCH_REDIS_CLIENT_FIX") == "1":
        CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
            {
                "address": REDIS_URL,
                "socket_timeout": FIXED_SOCKET_TIMEOUT,
                "max_connections": FIXED_MAX_CONNECTIONS,
            }
        ]
