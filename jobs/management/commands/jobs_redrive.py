"""`manage.py jobs_redrive [--all | ID ...]`: dead jobs back to the queue, with fresh attempts.

It drains the dead-letter queue: the messages of the jobs asked for are removed (their
jobs redriven), the others are put back. A message whose job is not dead any more is stale
and is dropped, unless its job is unfinished and nobody runs it (a message SQS moved
there after too many receives), which is sent to the workers again. Dead jobs without a
message (none was sent, or jobs ran in-process) are redriven all the same.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import DomainError
from jobs import brokers, selectors, services
from jobs.models import Job


class Command(BaseCommand):
    help = "Put dead jobs (all, or those given by id) back in the queue with fresh attempts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="dead jobs' ids")
        parser.add_argument("--all", action="store_true", help="every dead job")

    def handle(self, *args: Any, ids: list[int], all: bool, **options: Any) -> None:
        if all == bool(ids):
            raise CommandError("Give either --all or the ids of dead jobs.")
        wanted = None if all else set(ids)
        redriven: list[int] = []
        resent: list[int] = []

        def handle_letter(letter: brokers.DeadLetter) -> bool:
            if letter.job_id is None:
                return False
            if wanted is not None and letter.job_id not in wanted:
                return False
            outcome = self._redrive(letter.job_id)
            if outcome == "redriven":
                redriven.append(letter.job_id)
            elif outcome == "resent":
                resent.append(letter.job_id)
            return True

        report = brokers.dead_letters_drain(handle_letter)
        dead = selectors.job_list_dead().exclude(pk__in=redriven)
        if wanted is not None:
            dead = dead.filter(pk__in=wanted)
        for job in dead.order_by("id"):
            if self._redrive(job.pk) == "redriven":
                redriven.append(job.pk)
        if wanted is not None:
            for job_id in sorted(wanted - set(redriven) - set(resent)):
                status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
                self.stderr.write(f"Job {job_id} is {status or 'missing'}, not dead: left alone.")
        listed = ", ".join(str(job_id) for job_id in sorted(redriven)) or "none"
        self.stdout.write(f"Redrove {len(redriven)} job(s): {listed}.")
        if resent:
            self.stdout.write(f"Sent {len(resent)} unfinished job(s) again: {sorted(resent)}.")
        stale = report.handled - len(redriven) - len(resent)
        self.stdout.write(
            f"Dead-letter queue: {report.taken} message(s) taken, {report.kept} put back, "
            f"{max(stale, 0)} stale dropped."
        )

    def _redrive(self, job_id: int) -> str:
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            return "missing"
        if job.status == Job.Status.DEAD:
            try:
                services.job_redrive(job=job, actor=None)
            except DomainError:  # no longer dead: someone redrove it meanwhile
                return "stale"
            return "redriven"
        if services.job_resend(job=job):
            return "resent"
        return "stale"
