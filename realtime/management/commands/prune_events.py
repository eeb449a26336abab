"""Delete events past EVENTS_RETENTION and read notifications past NOTIFICATIONS_RETENTION."""

from django.core.management.base import BaseCommand

from realtime import retention


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=retention.BATCH)

    def handle(self, *args, batch: int, **options):
        events = retention.events_prune(batch=batch)
        notifications = retention.notifications_prune(batch=batch)
        self.stdout.write(f"Deleted {events} event(s) and {notifications} read notification(s).")
