"""Job metrics for /metrics, read when scraped: jobs by status, stale attempts, queue depth.

Queue depth is read only where it is cheap (a Redis broker: one LLEN per queue); SQS
publishes its own depths (CloudWatch). A failing read leaves the metric out; the scrape
still answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from jobs import brokers, selectors

logger = structlog.get_logger(__name__)


class JobsCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names alone: registering must not query the database."""
        yield GaugeMetricFamily("showdesk_jobs", "Jobs by status.", labels=["status"])
        yield GaugeMetricFamily("showdesk_jobs_stale_running", "Stale running jobs.")
        yield GaugeMetricFamily(
            "showdesk_jobs_queue_depth", "Messages waiting in a job queue.", labels=["queue"]
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = selectors.job_counts_by_status()
            stale = selectors.job_list_stale_running().count()
        except Exception as exc:
            logger.warning("job_metrics_failed", part="database", error=repr(exc))
        else:
            by_status = GaugeMetricFamily("showdesk_jobs", "Jobs by status.", labels=["status"])
            for status, count in counts.items():
                by_status.add_metric([status], count)
            yield by_status
            yield GaugeMetricFamily(
                "showdesk_jobs_stale_running",
                "Running jobs whose attempt's lease lapsed (their worker stopped beating).",
                value=stale,
            )
        if brokers.broker_kind() != "redis":
            return
        try:
            depths = brokers.redis_queue_depths([settings.JOBS_QUEUE, settings.JOBS_DEAD_QUEUE])
        except Exception as exc:
            logger.warning("job_metrics_failed", part="broker", error=repr(exc))
            return
        depth = GaugeMetricFamily(
            "showdesk_jobs_queue_depth", "Messages waiting in a job queue.", labels=["queue"]
        )
        for name, count in depths.items():
            depth.add_metric([name], count)
        yield depth


def register_collector() -> None:
    from common.metrics import register_state_collector

    register_state_collector(JobsCollector())
