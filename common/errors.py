"""Domain errors raised by services, and the DRF exception handler that maps them to HTTP."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = structlog.get_logger(__name__)

# Seconds a client is asked to wait after a 503: a dropped connection is replaced by the
# next request, a restarting database takes a little longer.
DATABASE_RETRY_AFTER = 5


class DomainError(Exception):
    """A rule of the domain was broken; services raise it, the API maps it to a status."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ConflictError(DomainError):
    """The request is valid but the object's current state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class FieldError(DomainError):
    """A value is invalid for a reason only the database or a service can tell (uniqueness)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, FieldError):
        return Response({exc.field: [exc.message]}, status=exc.status_code)
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer with its HTML 400 page; API clients get JSON.
        return Response(
            {"detail": "The request body is too large.", "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(exc)
    # A row deleted by another request between the view's lookup and the service's.
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


def database_unavailable(exc: Exception) -> Response:
    """503 for a database that dropped or refused the connection (or timed a query out).

    The request's transaction did not commit, so nothing of it was written: the client may
    send it again. Django replaces the broken connection on the next request.
    """
    logger.warning("database_unavailable", error=repr(exc))
    return Response(
        {"detail": "The database is unavailable; try again shortly.", "code": "unavailable"},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )
