"""Who is acting right now: the request's user, or the system (None) in workers.

Set by `ActorMiddleware` for requests (the admin included) and by `acting_as` in task
wrappers; read by the realtime receivers, so that app code never passes it to them.
DRF authenticates inside the view and then sets `request.user` on the Django request, so the
middleware keeps the request and the user is read when the receiver runs.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

_current: contextvars.ContextVar[Any] = contextvars.ContextVar("showdesk_actor", default=None)


def current_actor() -> Any:
    """The acting user, or None for the system or an anonymous request."""
    value = _current.get()
    if isinstance(value, HttpRequest):
        value = getattr(value, "user", None)
    if value is None or not getattr(value, "is_authenticated", False):
        return None
    return value


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Run a block as `actor` (a user, a request, or None for the system)."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def as_actor(service: Callable[..., T]) -> Callable[..., T]:
    """Run a service with its `actor` keyword as the current actor.

    The receivers read the actor from the context, so that a change made by a command, the
    shell or a worker is attributed to the actor the service was given, not to nobody.
    """

    @functools.wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with acting_as(kwargs.get("actor")):
            return service(*args, **kwargs)

    return wrapper


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(request):
            return self.get_response(request)
