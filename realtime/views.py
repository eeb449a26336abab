"""REST endpoints of the activity feed, notifications (and their preferences, episode mutes)
and missed events."""

from __future__ import annotations

import orjson
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanRead, IsAuthenticatedMember
from common.pagination import CursorPagination
from episodes import selectors as episode_selectors
from realtime import selectors, services
from realtime.filters import ActivityFilter, NotificationFilter
from realtime.relay import encode_frame
from realtime.serializers import (
    ActivitySerializer,
    EpisodeMuteSerializer,
    EventsPageSerializer,
    NotificationPreferencesSerializer,
    NotificationSerializer,
    ReadAllSerializer,
    TooOldSerializer,
    UnreadCountSerializer,
)

EVENTS_PAGE = 500


class FeedPagination(CursorPagination):
    ordering = "-id"


class ActivityViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    pagination_class = FeedPagination
    permission_classes = [CanRead]
    ordering_fields: list[str] = []

    def get_queryset(self):
        return selectors.activity_list(user=self.request.user)


class NotificationPagination(CursorPagination):
    """Newest change first: a notification that a repeat folded into rises to the top."""

    ordering = ("-updated_at", "-id")


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination
    permission_classes = [IsAuthenticatedMember]
    ordering_fields: list[str] = []

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(responses={200: UnreadCountSerializer}, filters=False)
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request):
        return Response({"count": selectors.notification_unread_count(user=request.user)})

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: ReadAllSerializer}, filters=False)
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None)
    def read_all(self, request):
        marked = services.notifications_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})


class NotificationPreferencesView(APIView):
    """The caller's notification types (on or off) and muted episodes."""

    permission_classes = [IsAuthenticatedMember]

    @extend_schema(responses={200: NotificationPreferencesSerializer})
    def get(self, request):
        return Response(selectors.notification_preferences(user=request.user))

    @extend_schema(
        request=NotificationPreferencesSerializer,
        responses={200: NotificationPreferencesSerializer},
        description="Replace them all: a type left out is on, an episode left out unmuted.",
    )
    def put(self, request):
        return self._set(request, replace=True)

    @extend_schema(
        request=NotificationPreferencesSerializer(partial=True),
        responses={200: NotificationPreferencesSerializer},
        description="Change only the types named; `muted_episodes`, if given, is the whole list.",
    )
    def patch(self, request):
        return self._set(request, replace=False)

    def _set(self, request, *, replace: bool) -> Response:
        serializer = NotificationPreferencesSerializer(data=request.data, partial=not replace)
        serializer.is_valid(raise_exception=True)
        services.notification_preferences_set(
            user=request.user, replace=replace, **serializer.validated_data
        )
        return Response(selectors.notification_preferences(user=request.user))


class EpisodeMuteView(APIView):
    """Mute an episode (no more `episode_updated` or `episode_published` of it), or unmute."""

    permission_classes = [IsAuthenticatedMember]

    def _episode(self, request, pk: int):
        return get_object_or_404(episode_selectors.episode_list(user=request.user), pk=pk)

    @extend_schema(request=None, responses={200: EpisodeMuteSerializer})
    def put(self, request, pk: int):
        episode = self._episode(request, pk)
        services.episode_mute(episode=episode, user=request.user)
        return Response({"episode": episode.pk, "muted": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        episode = self._episode(request, pk)
        services.episode_unmute(episode=episode, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SinceSerializer(serializers.Serializer):
    since = serializers.IntegerField(min_value=0, max_value=2**62)


class EventsView(APIView):
    """Missed events for clients without a socket, in id order, a page at a time."""

    permission_classes = [IsAuthenticatedMember]

    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.INT, required=True)],
        responses={200: EventsPageSerializer, 410: OpenApiResponse(TooOldSerializer)},
    )
    def get(self, request):
        query = SinceSerializer(data=request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        since = query.validated_data["since"]
        rows = selectors.events_since(user=request.user, since=since, limit=EVENTS_PAGE + 1)
        # The mark is read after the rows: retention raises it before deleting, so rows
        # deleted under this read are always seen as a raised mark, never as a gap.
        if since < selectors.event_pruned_through():
            return Response(
                {"detail": "Events after this id are past retention.", "code": "too_old"},
                status=status.HTTP_410_GONE,
            )
        page = rows[:EVENTS_PAGE]
        frames = [orjson.loads(encode_frame(row, row.streams[0])) for row in page]
        last = page[-1].position if page else max(since, 0)
        return Response(
            {"events": frames, "last_event_id": last, "has_more": len(rows) > len(page)}
        )
