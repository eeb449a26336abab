"""HTTP middleware: the X-Request-ID of every request and response, and Prometheus metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from common import metrics

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# An upstream id is kept only if it cannot forge a log line or a header: short, plain characters.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class _Middleware:
    """Runs both under WSGI and ASGI without a thread hop, like Django's own middleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if iscoroutinefunction(self):
            return self._acall(request)
        before = self.before(request)
        return self.after(request, self.get_response(request), before)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        before = self.before(request)
        return self.after(request, await self.get_response(request), before)

    def before(self, request: HttpRequest) -> object:
        raise NotImplementedError

    def after(self, request: HttpRequest, response: HttpResponse, before: object) -> HttpResponse:
        raise NotImplementedError


class RequestIdHeaderMiddleware(_Middleware):
    """Give each request an id, echoed as X-Request-ID and bound to its log lines.

    Outermost, so that redirects and static files carry the header too. A well-formed
    incoming X-Request-ID (from the load balancer or the client) is kept; django-structlog,
    which trusts it (DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID), binds the same id to the logs.
    """

    def before(self, request: HttpRequest) -> str:
        incoming = request.META.get(REQUEST_ID_META, "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        request.META[REQUEST_ID_META] = request_id
        return request_id

    def after(self, request: HttpRequest, response: HttpResponse, before: object) -> HttpResponse:
        response[REQUEST_ID_HEADER] = cast(str, before)
        return response


@lru_cache(maxsize=1024)
def route_label(route: str) -> str:
    """`api/v1/episodes/(?P<pk>[^/.]+)/$` → `api/v1/episodes/<pk>/`; `<int:id>` → `<id>`."""
    out: list[str] = []
    i = 0
    while i < len(route):
        char = route[i]
        if char == "(":
            name = re.match(r"\(\?P<(\w+)>", route[i:])
            out.append(f"<{name.group(1)}>" if name else "<var>")
            i = _group_end(route, i)
        elif char == "\\" and i + 1 < len(route):
            out.append(route[i + 1])
            i += 2
        elif char in "^$?":
            i += 1
        else:
            out.append(char)
            i += 1
    return re.sub(r"<\w+:(\w+)>", r"<\1>", "".join(out))


def _group_end(pattern: str, start: int) -> int:
    """The index just past the group opening at `start`, skipping escapes and classes."""
    depth = 0
    in_class = False
    i = start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


class MetricsMiddleware(_Middleware):
    """Count requests and time them, labelled by route pattern (not raw path) and status."""

    def before(self, request: HttpRequest) -> float:
        return time.perf_counter()

    def after(self, request: HttpRequest, response: HttpResponse, before: object) -> HttpResponse:
        match = getattr(request, "resolver_match", None)
        method = request.method if request.method in KNOWN_METHODS else "other"
        metrics.observe_request(
            method=method,
            route=route_label(match.route) if match and match.route else "unmatched",
            status=response.status_code,
            seconds=time.perf_counter() - cast(float, before),
        )
        return response
