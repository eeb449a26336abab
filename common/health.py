"""Ops endpoints: /healthz (alive), /readyz (dependencies reachable), /metrics."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.metrics import exposition

logger = structlog.get_logger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    return checks


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness_check_failed", check=name, error=str(exc))
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    failed = [name for name, state in results.items() if state != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": results, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
