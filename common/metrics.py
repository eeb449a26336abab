"""Prometheus metrics of the HTTP layer, and the /metrics exposition (multi-process aware)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "showdesk_http_requests_total",
    "HTTP requests by method, route and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "showdesk_http_request_duration_seconds",
    "HTTP request latency by method, route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    labels = {"method": method, "route": route, "status": str(status)}
    REQUESTS.labels(**labels).inc()
    LATENCY.labels(**labels).observe(seconds)


# Collectors that read shared state (the database) rather than this process's counters.
_state_collectors: list[Collector] = []


def register_state_collector(collector: Collector) -> None:
    """Expose a collector in every mode: it reports the same whichever process answers."""
    if any(type(known) is type(collector) for known in _state_collectors):
        return
    _state_collectors.append(collector)
    DEFAULT_REGISTRY.register(collector)


def exposition() -> tuple[bytes, str]:
    """The metrics text; with PROMETHEUS_MULTIPROC_DIR set, summed over every server process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        for collector in _state_collectors:
            registry.register(collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
