"""Background jobs: rows whose state clients follow live, run by Celery workers."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self) -> None:
        from jobs.metrics import register_collector

        register_collector()
