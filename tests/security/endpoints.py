"""What the project serves, read from the running code: API operations and URL routes.

The security tables are checked against these, so that an endpoint added without a row in
them fails a test instead of going untested.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def api_operations() -> list[tuple[str, str]]:
    """Every (METHOD, path template) of the OpenAPI schema, in a stable order."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in ("GET", *UNSAFE)
    )


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, str | None]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def routes(prefix: str = "") -> list[tuple[str, str | None]]:
    """(route, name) of every URL pattern whose route starts with `prefix`."""
    return [item for item in _walk(get_resolver().url_patterns) if item[0].startswith(prefix)]


def url_names(prefix: str = "", *, but: tuple[str, ...] = ()) -> set[str]:
    """The names of the URL patterns whose route starts with `prefix` and none of `but`."""
    return {
        name or route
        for route, name in _walk(get_resolver().url_patterns)
        if route.startswith(prefix) and not route.startswith(but)
    }
