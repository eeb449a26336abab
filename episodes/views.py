"""REST viewsets of episodes and compositions: validate, call one service, serialize."""

from __future__ import annotations

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
from episodes.versioning import ETAG_HEADER, VersionedMixin, versioned

EPISODE_ORDERING = ["title", "episode_number", "season", "status", "air_date", "created_at"]


@extend_schema_view(
    create=extend_schema(parameters=[ETAG_HEADER]),
    update=extend_schema(
        request=EpisodeUpdateSerializer,
        **versioned("episode", EpisodeVersionMismatchSerializer, {200: EpisodeUpdateSerializer}),
    ),
    partial_update=extend_schema(
        request=EpisodeUpdateSerializer,
        **versioned("episode", EpisodeVersionMismatchSerializer, {200: EpisodeUpdateSerializer}),
    ),
    destroy=extend_schema(
        **versioned("episode", EpisodeVersionMismatchSerializer, {204: None}),
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
        **versioned(
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
        **versioned(
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
        **versioned(
            "composition",
            CompositionVersionMismatchSerializer,
            {200: CompositionUpdateSerializer},
        ),
    ),
    partial_update=extend_schema(
        request=CompositionUpdateSerializer,
        **versioned(
            "composition",
            CompositionVersionMismatchSerializer,
            {200: CompositionUpdateSerializer},
        ),
    ),
    destroy=extend_schema(
        **versioned("composition", CompositionVersionMismatchSerializer, {204: None}),
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
