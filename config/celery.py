"""The Celery app. Settings come from Django settings prefixed CELERY_ (and JOBS_).

Workers and the scheduler, with CELERY_BROKER_URL set (redis://… or sqs://…):

    celery -A config worker -Q jobs --without-gossip --without-mingle -l INFO   # -c N
    celery -A config beat -l INFO

On SQS, create the queues first (Celery does not): `python manage.py jobs_setup_queues`.
Without a broker, jobs run in-process and neither is needed.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("showdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
