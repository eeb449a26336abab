"""Background jobs run by Celery workers: media probes, thumbnails, search indexing, exports."""
