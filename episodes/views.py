"""REST viewsets of episodes and compositions: validate, call one service, serialize."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsAuthenticatedMember
from common.errors import DomainError
from episodes import search, selectors, services
from episodes.filters import CompositionFilter, EpisodeFilter
from episodes.serializers import (
    CompositionSerializer,
    CompositionUpdateSerializer,
    CompositionVersionMismatchSerializer,
    ConflictSerializer,
    EpisodeDetailSerializer,
    EpisodeSerializer,
    EpisodeUpdateSerializer,
    EpisodeVersionMismatchSerializer,
    SubscriptionSerializer,
)

EPISODE_ORDERING = ["title", "episode_number", "season", "status", "air_date", "created_at"]

# --- Versions: ETag out, If-Match in ------------------------------------------------------
#
# The ETag is the object's version, `"<version>"`: an entity tag is only ever compared with
# tags of the same URL, so the id would add nothing. It is strong, as If-Match requires, and
# names the stored object: the viewers of an episode's detail are not part of it.

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


def _versioned(kind: str, mismatch: type, responses: dict[int, Any]) -> dict[str, Any]:
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


@extend_schema_view(
    create=extend_schema(parameters=[ETAG_HEADER]),
    update=extend_schema(
        request=EpisodeUpdateSerializer,
        **_versioned("episode", EpisodeVersionMismatchSerializer, {200: EpisodeUpdateSerializer}),
    ),
    partial_update=extend_schema(
        request=EpisodeUpdateSerializer,
        **_versioned("episode", EpisodeVersionMismatchSerializer, {200: EpisodeUpdateSerializer}),
    ),
    destroy=extend_schema(
        **_versioned("episode", EpisodeVersionMismatchSerializer, {204: None}),
    ),
)
class EpisodeViewSet(VersionedMixin, viewsets.ModelViewSet):
    serializer_class = EpisodeSerializer
    mismatch_serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter
    ordering_fields = [*EPISODE_ORDERING, "updated_at", "id"]
    ordering = ["season", "episode_number", "id"]

    def get_queryset(self):
        return selectors.episode_list(user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                search.BACKEND_HEADER,
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description=(
                    "With `search`: the backend that answered, `opensearch` or `database`; "
                    "`database; fallback` when OpenSearch is configured but could not answer."
                ),
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        # A search comes in order of relevance (set by the search filter) unless the client
        # asks for an order: the default ordering would undo it.
        if request.query_params.get("search") and not request.query_params.get("ordering"):
            self.ordering = None
        response = super().list(request, *args, **kwargs)
        backend = search.backend_used(request)
        if backend is not None:
            response[search.BACKEND_HEADER] = backend
        return response

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return EpisodeUpdateSerializer
        return EpisodeSerializer

    def get_permissions(self):
        if self.action == "subscription":
            return [IsAuthenticatedMember()]
        return super().get_permissions()

    @extend_schema(responses={200: EpisodeDetailSerializer}, parameters=[ETAG_HEADER])
    def retrieve(self, request, *args, **kwargs):
        episode = self.get_object()
        episode.viewers = services.episode_record_view(episode=episode, actor=request.user)
        return Response(EpisodeDetailSerializer(episode).data)

    def perform_create(self, serializer):
        serializer.instance = services.episode_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.episode_update(
            episode=serializer.instance,
            actor=self.request.user,
            if_match=self.if_match(),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.episode_delete(episode=instance, actor=self.request.user, if_match=self.if_match())

    @extend_schema(
        request=None,
        **_versioned(
            "episode",
            EpisodeVersionMismatchSerializer,
            {200: EpisodeSerializer, 409: OpenApiResponse(ConflictSerializer)},
        ),
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        episode = services.episode_publish(
            episode=self.get_object(), actor=request.user, if_match=self.if_match()
        )
        return Response(EpisodeSerializer(episode).data)

    @extend_schema(
        request=None,
        **_versioned(
            "episode",
            EpisodeVersionMismatchSerializer,
            {200: EpisodeSerializer, 409: OpenApiResponse(ConflictSerializer)},
        ),
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        episode = services.episode_archive(
            episode=self.get_object(), actor=request.user, if_match=self.if_match()
        )
        return Response(EpisodeSerializer(episode).data)

    @extend_schema(methods=["PUT"], request=None, responses={200: SubscriptionSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["put", "delete"])
    def subscription(self, request, pk=None):
        episode = self.get_object()
        if request.method == "PUT":
            services.episode_subscribe(episode=episode, user=request.user)
            return Response({"episode": episode.pk, "subscribed": True})
        services.episode_unsubscribe(episode=episode, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    retrieve=extend_schema(parameters=[ETAG_HEADER]),
    create=extend_schema(parameters=[ETAG_HEADER]),
    update=extend_schema(
        request=CompositionUpdateSerializer,
        **_versioned(
            "composition",
            CompositionVersionMismatchSerializer,
            {200: CompositionUpdateSerializer},
        ),
    ),
    partial_update=extend_schema(
        request=CompositionUpdateSerializer,
        **_versioned(
            "composition",
            CompositionVersionMismatchSerializer,
            {200: CompositionUpdateSerializer},
        ),
    ),
    destroy=extend_schema(
        **_versioned("composition", CompositionVersionMismatchSerializer, {204: None}),
    ),
)
class CompositionViewSet(
    VersionedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = CompositionFilter
    ordering_fields = ["name", "created_at", "updated_at", "id"]
    ordering = ["id"]
    mismatch_serializer_class = CompositionSerializer

    def get_queryset(self):
        return selectors.composition_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return CompositionUpdateSerializer
        return CompositionSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        episode = data.pop("episode")
        serializer.instance = services.composition_create(
            episode=episode, actor=self.request.user, **data
        )

    def perform_update(self, serializer):
        serializer.instance = services.composition_update(
            composition=serializer.instance,
            actor=self.request.user,
            if_match=self.if_match(),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.composition_delete(
            composition=instance, actor=self.request.user, if_match=self.if_match()
        )
