"""A stand-in measurement that never finishes in time (tests/bench/test_runner.py)."""

from __future__ import annotations

import time


def rows(argv: list[str] | None = None) -> list:
    time.sleep(120)
    return []
