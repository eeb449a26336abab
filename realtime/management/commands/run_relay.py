"""Publish outbox events that are not yet published, in order, until stopped."""

from __future__ import annotations

import signal
import threading

import structlog
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.management.base import BaseCommand, CommandError
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
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            # Events "published" into this process's memory would reach no socket, yet be
            # marked published: with the in-memory layer the server relays its own events.
            raise CommandError("run_relay needs a shared channel layer (set REDIS_URL).")
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        rounds = 0
        published = 0
        while not stop.is_set():
            try:
                published = relay.publish_pending()
            except Exception as exc:
                logger.warning("relay_round_failed", error=repr(exc))
                published = 0
            if published:
                logger.info("relay_published", count=published)
            rounds += 1
            if once or (max_rounds and rounds >= max_rounds):
                break
            # Between rounds only: a connection the database dropped is replaced next round.
            close_old_connections()
            stop.wait(interval)
        if once:
            self.stdout.write(f"Published {published} event(s).")
