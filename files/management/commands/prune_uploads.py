"""Delete uploads left pending past FILES_PENDING_TTL seconds, their objects included."""

from django.core.management.base import BaseCommand

from files import services


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--ttl", type=int, default=None, help="seconds (default: FILES_PENDING_TTL)"
        )

    def handle(self, *args, ttl: int | None, **options):
        deleted = services.file_prune_pending(ttl=ttl)
        self.stdout.write(f"Deleted {deleted} pending upload(s).")
