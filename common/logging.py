"""Structured logging: structlog for everything, JSON in production, console in development."""

from __future__ import annotations

import re
from typing import Any

import structlog

# A key naming any of these, in any case or as part of a longer name (`access_token`,
# `new_password`, `HTTP_AUTHORIZATION`), has its value replaced.
SECRET_WORDS = ("password", "passwd", "token", "ticket", "secret", "authorization", "cookie")
REDACTED = "[redacted]"
_SECRET_KEY = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)
# The same words as query parameters in a logged URL (`GET /ws/?ticket=…`).
_SECRET_PARAM = re.compile(
    r"([?&][^=&\s]*(?:" + "|".join(SECRET_WORDS) + r")[^=&\s]*=)[^&\s#]*", re.IGNORECASE
)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    if isinstance(value, str) and ("?" in value or "&" in value):
        return _SECRET_PARAM.sub(rf"\1{REDACTED}", value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replace any value whose key names a secret, at any depth, wherever a caller put one."""
    for key, value in event_dict.items():
        event_dict[key] = REDACTED if _SECRET_KEY.search(key) else _redact(value)
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,
]


def structured_formatter(*, fmt: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: one JSON object per line, or a readable console line."""
    # The console renderer prints tracebacks itself; JSON needs them as a string field, for
    # stdlib records (django.request's 500s) as much as for structlog's.
    renderers = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if fmt == "json"
        # Plain tracebacks: with `rich` installed (schemathesis brings it) structlog would
        # render each one with its locals, a second or more per logged exception.
        else [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        foreign_pre_chain=SHARED_PROCESSORS,
    )


def configure_logging(*, level: str, fmt: str) -> dict[str, Any]:
    """Configure structlog and return the stdlib LOGGING dict that routes through it."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "common.logging.structured_formatter", "fmt": fmt}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default handlers (a plain console in DEBUG, mail_admins), which
            # would print each django.* line a second time; everything goes through the root.
            "django": {"handlers": [], "level": level},
            "django.server": {"level": "WARNING"},
            # uvicorn's own handlers would print its access lines (`GET /ws/?ticket=…`) as they
            # are; through the root handler, the query's secrets are redacted like the rest.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            "django_structlog": {"level": level},
        },
    }
