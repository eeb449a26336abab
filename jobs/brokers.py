"""The job queues on the broker: the dead-letter queue, queue depths, and SQS's queues.

A job out of attempts is `dead` in the database and its message goes to the dead-letter
queue (JOBS_DEAD_QUEUE: a Redis list, or an SQS queue that is also the redrive target of
the main queue). No worker consumes it; `manage.py jobs_redrive` drains it. Without a broker
(jobs run in-process) there is no dead-letter queue: the database alone knows dead jobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from celery import current_app
from django.conf import settings
from kombu.simple import SimpleQueue

logger = structlog.get_logger(__name__)

DEAD_ERROR_HEADER = "x_job_error"
DEAD_ERROR_MAX_CHARS = 500
DRAIN_LIMIT = 10_000
SQS_RETENTION_SECONDS = 14 * 24 * 3600
# Nothing consumes the dead-letter queue but the redrive command: a message it took and
# could not handle comes back soon.
SQS_DEAD_VISIBILITY_TIMEOUT = 30


def has_broker() -> bool:
    return not current_app.conf.task_always_eager and bool(current_app.conf.broker_url)


def broker_kind() -> str | None:
    """`redis`, `sqs` (or another kombu transport's scheme); None without a broker."""
    if not has_broker():
        return None
    return urlsplit(current_app.conf.broker_url).scheme.split("+")[0] or None


def dead_letter_send(*, job_id: int, error: str) -> bool:
    """Put a message of the dead job in the dead-letter queue; False without a broker."""
    if not has_broker():
        return False
    from jobs.tasks import run_job_task

    try:
        run_job_task.apply_async(
            args=[job_id],
            queue=settings.JOBS_DEAD_QUEUE,
            headers={DEAD_ERROR_HEADER: error[:DEAD_ERROR_MAX_CHARS]},
        )
    except Exception as exc:  # the job is dead all the same: `jobs_redrive` finds it by its row
        logger.error("job_dead_letter_failed", job_id=job_id, error=repr(exc))
        return False
    logger.info("job_dead_lettered", job_id=job_id, queue=settings.JOBS_DEAD_QUEUE)
    return True


def queue_depth(name: str) -> int | None:
    """Messages waiting in a queue (SQS: approximately); None without a broker."""
    if not has_broker():
        return None
    with current_app.connection_for_read() as conn:
        return int(conn.default_channel.queue_declare(queue=name).message_count)


# kombu's Redis transport keeps a queue's messages in one list per priority step.
_REDIS_PRIORITY_SEPARATOR = "\x06\x16"
_REDIS_PRIORITY_STEPS = (0, 3, 6, 9)


def redis_queue_depths(names: list[str], timeout: float = 1.0) -> dict[str, int]:
    """Messages waiting in Redis queues, read directly (bounded by `timeout`): for metrics."""
    import redis

    client = redis.Redis.from_url(
        current_app.conf.broker_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                for step in _REDIS_PRIORITY_STEPS:
                    pipe.llen(f"{name}{_REDIS_PRIORITY_SEPARATOR}{step}" if step else name)
            lengths = pipe.execute()
    finally:
        client.close()
    steps = len(_REDIS_PRIORITY_STEPS)
    return {name: sum(lengths[i * steps : (i + 1) * steps]) for i, name in enumerate(names)}


@dataclass(frozen=True)
class DeadLetter:
    job_id: int | None
    error: str


@dataclass(frozen=True)
class DrainReport:
    taken: int
    handled: int
    kept: int


def _dead_letter(message: Any) -> DeadLetter:
    headers = message.headers or {}
    error = str(headers.get(DEAD_ERROR_HEADER, ""))
    try:
        args = message.decode()[0]
        job_id = int(args[0])
    except (TypeError, ValueError, IndexError, KeyError, json.JSONDecodeError):
        job_id = None
    return DeadLetter(job_id=job_id, error=error)


def dead_letters_drain(handle: Callable[[DeadLetter], bool]) -> DrainReport:
    """Take every message of the dead-letter queue; drop those `handle` returns True for.

    All are taken first (unacknowledged, so none is read twice), then each is handled. The
    others are put back as they were: published again, then acknowledged (a message
    rejected with requeue on SQS would also come back once more by itself).
    """
    if not has_broker():
        return DrainReport(0, 0, 0)
    handled = kept = 0
    with current_app.connection_for_write() as conn:
        queue = SimpleQueue(conn, settings.JOBS_DEAD_QUEUE, no_ack=False)
        try:
            taken = []
            while len(taken) < DRAIN_LIMIT:
                try:
                    taken.append(queue.get(block=False))
                except queue.Empty:
                    break
            producer = conn.Producer()
            for message in taken:
                if handle(_dead_letter(message)):
                    handled += 1
                else:
                    _put_back(producer, message)
                    kept += 1
                message.ack()
        finally:
            queue.close()
    return DrainReport(taken=len(taken), handled=handled, kept=kept)


def _put_back(producer: Any, message: Any) -> None:
    producer.publish(
        message.body,
        exchange="",
        routing_key=settings.JOBS_DEAD_QUEUE,
        headers=message.headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        properties={
            key: value
            for key, value in message.properties.items()
            if key in ("correlation_id", "reply_to", "priority")
        },
    )


# --- SQS ------------------------------------------------------------------------------------


def sqs_client(broker_url: str | None = None) -> Any:
    """A boto3 SQS client for the broker URL's endpoint (sqs://key:secret@host:port)."""
    import boto3

    url = urlsplit(broker_url or current_app.conf.broker_url)
    options = current_app.conf.broker_transport_options or {}
    endpoint = None
    if url.hostname:
        scheme = "https" if options.get("is_secure", settings.JOBS_SQS_SECURE) else "http"
        port = f":{url.port}" if url.port else ""
        endpoint = f"{scheme}://{url.hostname}{port}"
    return boto3.client(
        "sqs",
        region_name=options.get("region", settings.JOBS_SQS_REGION),
        endpoint_url=endpoint,
        aws_access_key_id=unquote(url.username) if url.username else None,
        aws_secret_access_key=unquote(url.password) if url.password else None,
    )


def _ensure_queue(client: Any, name: str, attributes: dict[str, str]) -> str:
    """Create the queue, or set these attributes on it if it exists; its URL."""
    try:
        url = client.get_queue_url(QueueName=name)["QueueUrl"]
    except client.exceptions.QueueDoesNotExist:
        return client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def sqs_setup_queues(broker_url: str | None = None) -> dict[str, str]:
    """Create (or update) the main queue and its dead-letter queue; their URLs by name.

    Celery's predefined queues are neither listed nor created by Celery: this does it. The
    main queue's visibility timeout outlasts the longest job; after JOBS_SQS_MAX_RECEIVE_COUNT
    receives SQS moves a message to the dead-letter queue (one that kills every worker).
    """
    client = sqs_client(broker_url)
    dead_url = _ensure_queue(
        client,
        settings.JOBS_DEAD_QUEUE,
        {
            "MessageRetentionPeriod": str(SQS_RETENTION_SECONDS),
            "VisibilityTimeout": str(SQS_DEAD_VISIBILITY_TIMEOUT),
        },
    )
    dead_arn = client.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    main_url = _ensure_queue(
        client,
        settings.JOBS_QUEUE,
        {
            "MessageRetentionPeriod": str(SQS_RETENTION_SECONDS),
            "VisibilityTimeout": str(settings.JOBS_VISIBILITY_TIMEOUT),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dead_arn,
                    "maxReceiveCount": str(settings.JOBS_SQS_MAX_RECEIVE_COUNT),
                }
            ),
        },
    )
    return {settings.JOBS_QUEUE: main_url, settings.JOBS_DEAD_QUEUE: dead_url}
