"""Publish outbox events that are not yet published, in order, until stopped."""

from __future__ import annotations

import signal
import threading

import structlog
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from realtime import relay

logger = structlog.get_logger(__name__)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument(
            "--max-rounds", type=int, default=0, help="stop after this many rounds (0: never)"
        )

    def handle(self, *args, interval: float, once: bool, max_rounds: int, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        rounds = 0
        while not stop.is_set():
            try:
                published = relay.publish_pending()
            except Exception as exc:
                logger.warning("relay_round_failed", error=repr(exc))
                published = 0
            finally:
                close_old_connections()
            if published:
                logger.info("relay_published", count=published)
            rounds += 1
            if once or (max_rounds and rounds >= max_rounds):
                break
            stop.wait(interval)
        if once:
            self.stdout.write(f"Published {published} event(s).")
