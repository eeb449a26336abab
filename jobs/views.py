"""REST viewset of jobs: list, read, queue; retry (editors, admins) and redrive (admins)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsAdmin
from episodes.serializers import ConflictSerializer
from jobs import selectors, services
from jobs.filters import JobFilter
from jobs.serializers import JobCreateSerializer, JobSerializer


@extend_schema_view(
    create=extend_schema(request=JobCreateSerializer, responses={201: JobSerializer}),
)
class JobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = JobFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "type", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.job_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return JobCreateSerializer
        return JobSerializer

    def get_permissions(self):
        if self.action == "redrive":
            return [*super().get_permissions(), IsAdmin()]
        return super().get_permissions()

    def create(self, request, *args, **kwargs):
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.job_enqueue(actor=request.user, **serializer.validated_data)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: JobSerializer, 409: OpenApiResponse(ConflictSerializer)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = services.job_retry(job=self.get_object(), actor=request.user)
        return Response(JobSerializer(job).data)

    @extend_schema(
        request=None,
        responses={200: JobSerializer, 409: OpenApiResponse(ConflictSerializer)},
    )
    @action(detail=True, methods=["post"])
    def redrive(self, request, pk=None):
        job = services.job_redrive(job=self.get_object(), actor=request.user)
        return Response(JobSerializer(job).data)
