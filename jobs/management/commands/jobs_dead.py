"""`manage.py jobs_dead`: the dead jobs (out of attempts), and the dead-letter queue's depth."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from jobs import brokers, selectors

ERROR_CHARS = 80


class Command(BaseCommand):
    help = "List the dead jobs, newest first, and how many messages the dead-letter queue holds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help="at most this many jobs")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        dead = selectors.job_list_dead().order_by("-finished_at", "-id")
        total = dead.count()
        for job in dead[: max(limit, 0)]:
            error = " ".join(job.error.split())
            if len(error) > ERROR_CHARS:
                error = error[: ERROR_CHARS - 1] + "…"
            finished = job.finished_at.isoformat(timespec="seconds") if job.finished_at else "-"
            self.stdout.write(
                f"{job.pk}\t{job.type}\tepisode={job.episode_id or '-'}\t"
                f"attempts={job.attempts}/{job.max_attempts}\t{finished}\t{error}"
            )
        self.stdout.write(f"{total} dead job(s).")
        depth = brokers.queue_depth(settings.JOBS_DEAD_QUEUE)
        if depth is None:
            self.stdout.write("No broker: jobs run in-process, there is no dead-letter queue.")
        else:
            self.stdout.write(f"Dead-letter queue {settings.JOBS_DEAD_QUEUE}: {depth} message(s).")
