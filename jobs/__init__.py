"""Background jobs run by Celery workers (filled by the jobs issue)."""
