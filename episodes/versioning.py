"""Versions over HTTP: the ETag on responses that return an object, If-Match on writes.

The ETag is the object's version, `"<version>"`: an entity tag is only ever compared with
tags of the same URL, so the id would add nothing. It is strong, as If-Match requires, and
names the stored object: the viewers of an episode's detail are not part of it.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.response import Response

from common.errors import DomainError
from episodes import services

_TAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'
# RFC 9110's #entity-tag: a comma-separated list, where empty elements are allowed.
# Each repetition starts at a comma, so no input can be split two ways (no backtracking blowup).
_TAG_LIST = re.compile(rf"\s*(?:,\s*)*{_TAG}\s*(?:,\s*(?:{_TAG}\s*)?)*")
_TAG_ONE = re.compile(_TAG)
_MAX_VERSION_DIGITS = 18
# Responses whose body is the object as it is now, and so carry its ETag.
_ETAG_ACTIONS = frozenset({"retrieve", "create", "update", "partial_update", "publish", "archive"})
# Requests that change the object, and so honour If-Match.
_IF_MATCH_ACTIONS = frozenset({"update", "partial_update", "destroy", "publish", "archive"})


class InvalidIfMatch(DomainError):
    code = "invalid_if_match"


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None for any (no header, or `*`).

    A well-formed tag that names no version (weak, or not a number) accepts none, so it
    answers 412 as HTTP says; a header that is not a list of entity tags is a 400.
    """
    if value is None or value.strip() == "*":
        return None
    if not _TAG_LIST.fullmatch(value):
        raise InvalidIfMatch('If-Match must be * or quoted entity tags, e.g. If-Match: "3".')
    versions = {
        int(tag)
        for weak, tag in _TAG_ONE.findall(value)
        if not weak and tag.isdigit() and len(tag) <= _MAX_VERSION_DIGITS
    }
    return frozenset(versions)


def _if_match_parameter(kind: str) -> OpenApiParameter:
    return OpenApiParameter(
        "If-Match",
        str,
        OpenApiParameter.HEADER,
        description=(
            f'Only if the {kind} is still at this version: its ETag, e.g. `"3"` (or `*`). '
            f"Otherwise 412 with the current {kind}; a malformed value is a 400. "
            "Without it the write happens whatever the version."
        ),
    )


ETAG_HEADER = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201, 412],
    description='The version of the object as stored now, e.g. `"3"`: send it as If-Match.',
)


def versioned(kind: str, mismatch: type, responses: dict[int, Any]) -> dict[str, Any]:
    """extend_schema arguments of a write that honours If-Match."""
    return {
        "parameters": [_if_match_parameter(kind), ETAG_HEADER],
        "responses": {
            **responses,
            412: OpenApiResponse(mismatch, description=f"The {kind} changed since your copy."),
        },
    }


class VersionedMixin:
    """ETag on the responses that return the object; If-Match on the writes that change it.

    The view checks the version of the object it loaded, so that a stale copy is a 412
    before its body is validated; the service checks it again under the row lock, which is
    what makes two writers of one version answer one 200 and one 412.
    """

    mismatch_serializer_class: type

    def if_match(self) -> frozenset[int] | None:
        if self.action not in _IF_MATCH_ACTIONS:
            return None
        return parse_if_match(self.request.headers.get("If-Match"))

    def get_object(self):
        obj = super().get_object()
        accepted = self.if_match()
        if accepted is not None and obj.version not in accepted:
            raise services.VersionMismatch(obj)
        return obj

    def handle_exception(self, exc):
        if isinstance(exc, services.VersionMismatch):
            body = {
                "detail": exc.message,
                "code": exc.code,
                "current": self.mismatch_serializer_class(exc.current).data,
            }
            response = Response(body, status=exc.status_code)
            response["ETag"] = etag(exc.current.version)
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            getattr(self, "action", None) in _ETAG_ACTIONS
            and 200 <= response.status_code < 300
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
        ):
            response["ETag"] = etag(data["version"])
        return response
