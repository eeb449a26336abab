"""`manage.py jobs_setup_queues`: create the SQS queues of jobs (main, dead-letter, redrive).

Celery neither lists nor creates predefined SQS queues. Run it once per environment (it
is idempotent: existing queues get the settings' attributes). Redis needs no setup.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs import brokers


class Command(BaseCommand):
    help = "Create or update the SQS job queue and its dead-letter queue (redrive policy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--broker-url", default="", help="an sqs:// URL (default: CELERY_BROKER_URL)"
        )

    def handle(self, *args: Any, broker_url: str, **options: Any) -> None:
        url = broker_url or settings.CELERY_BROKER_URL
        if not url:
            self.stdout.write("No broker: jobs run in-process, there are no queues to create.")
            return
        if not url.startswith("sqs://"):
            self.stdout.write(f"{url.split(':', 1)[0]} creates its queues itself: nothing to do.")
            return
        try:
            urls = brokers.sqs_setup_queues(url)
        except Exception as exc:
            raise CommandError(f"Could not set up the SQS queues: {exc}") from exc
        for name, queue_url in urls.items():
            self.stdout.write(f"{name}\t{queue_url}")
        prefix = settings.JOBS_SQS_QUEUE_URL_PREFIX
        expected = {name: f"{prefix}/{name}" for name in urls}
        if prefix and expected != urls:
            self.stderr.write(
                f"JOBS_SQS_QUEUE_URL_PREFIX={prefix} does not match these URLs: set it to "
                f"{urls[settings.JOBS_QUEUE].rsplit('/', 1)[0]}."
            )
