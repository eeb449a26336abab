"""Rate limits of the credential endpoints (auth/login/, auth/token/), kept in the cache.

Two limits, both answered with 429 and `Retry-After`:
- per client IP, every attempt counts (`DEFAULT_THROTTLE_RATES["login"]`, 20/min): slows a
  sweep over many usernames;
- per username and client IP, only failures count (`LOGIN_FAILURES_PER_USER` within
  `LOGIN_FAILURE_WINDOW` seconds, 5 in 60): once reached, even the right password is refused
  until the window ends, so guessing one account's password is not worth trying.
The client IP is DRF's `get_ident`: REMOTE_ADDR, or the `NUM_PROXIES`-th address from the
right of X-Forwarded-For behind that many trusted proxies (0 by default: the header is
ignored, so a client cannot send a new one each time to escape the limit).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = structlog.get_logger(__name__)

_PREFIX = "login-failures:"
_MAX_USERNAME = 150


def _now() -> float:
    return time.time()


class LoginRateThrottle(SimpleRateThrottle):
    """Every attempt from one client IP, successful or not."""

    scope = "login"

    def get_rate(self) -> str:
        # Read on each request, not when the module is imported, so that settings apply.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request: Request, view: Any) -> str:
        self.ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def wait(self) -> float | None:
        seconds = super().wait()
        return None if seconds is None else max(1, math.ceil(seconds))

    def throttle_failure(self) -> bool:
        logger.warning("login_throttled", limit="ip", ip=self.ident)
        return False


def _username(request: Request) -> str:
    data = request.data
    value = data.get("username") if isinstance(data, dict) else None
    return value[:_MAX_USERNAME].casefold() if isinstance(value, str) else ""


def _keys(request: Request, username: str) -> tuple[str, str]:
    ident = BaseThrottle().get_ident(request) or ""
    digest = hashlib.sha256(f"{ident}\x00{username}".encode()).hexdigest()
    return f"{_PREFIX}{digest}:count", f"{_PREFIX}{digest}:until"


class LoginFailureThrottle(BaseThrottle):
    """Refuses a username from a client IP after too many failed attempts, for the window."""

    def allow_request(self, request: Request, view: Any) -> bool:
        count_key, until_key = _keys(request, _username(request))
        if (cache.get(count_key) or 0) < settings.LOGIN_FAILURES_PER_USER:
            return True
        self.until = cache.get(until_key)
        logger.warning("login_throttled", limit="username", ip=self.get_ident(request))
        return False

    def wait(self) -> float:
        window = settings.LOGIN_FAILURE_WINDOW
        if self.until is None:
            return window
        return min(window, max(1, math.ceil(self.until - _now())))


def login_failed(request: Request) -> None:
    """Count a refused username/password pair against its username and client IP."""
    window = settings.LOGIN_FAILURE_WINDOW
    count_key, until_key = _keys(request, _username(request))
    cache.add(until_key, _now() + window, timeout=window)
    if cache.add(count_key, 1, timeout=window):
        return
    try:
        cache.incr(count_key)
    except ValueError:
        # Expired between the add and the increment: this failure opens a new window.
        cache.add(count_key, 1, timeout=window)


def login_succeeded(request: Request) -> None:
    """The right password clears the username's failures from this client IP."""
    cache.delete_many(list(_keys(request, _username(request))))
