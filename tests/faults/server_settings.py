"""The project's settings for the server processes of the fault, hostile and soak tests.

Redis pub/sub channels ignore the database number, so every process on the same Redis server
shares one channel namespace: a channel-layer prefix of the test's own
(SHOWDESK_TEST_LAYER_PREFIX) keeps other processes' events out of the frames these tests
count, and theirs out of others'.
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

if REDIS_URL and os.environ.get("SHOWDESK_TEST_LAYER_PREFIX"):
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ["SHOWDESK_TEST_LAYER_PREFIX"]
