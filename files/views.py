"""REST viewset of files: create an upload, send the bytes (local), complete, read, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import ConflictError
from files import selectors, services
from files.filters import FileFilter
from files.models import FileAsset
from files.parsers import IgnoreAccept, RawBodyParser
from files.serializers import (
    FileAssetSerializer,
    FileUploadCreateSerializer,
    FileUploadSerializer,
    UploadErrorSerializer,
)
from files.storage import CHUNK_SIZE, LocalFiles, file_storage

# What a served file may do in a browser that opens it: nothing (an SVG's scripts included).
CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'; media-src 'self'; img-src 'self'"
_UPLOAD_ERRORS = {
    code: OpenApiResponse(UploadErrorSerializer) for code in (400, 409, 411, 413, 415)
}


class FileBytesResponse(FileResponse):
    block_size = CHUNK_SIZE


async def _read_async(handle: BinaryIO, block_size: int) -> AsyncIterator[bytes]:
    read = sync_to_async(handle.read, thread_sensitive=False)
    while chunk := await read(block_size):
        yield chunk


def _file_response(request: Request, handle: BinaryIO, file: FileAsset) -> FileBytesResponse:
    """The file in chunks. Under ASGI the chunks must come from an async iterator: Django
    reads a synchronous one whole into memory before sending it."""
    response = FileBytesResponse(
        handle, as_attachment=True, filename=file.filename, content_type=file.content_type
    )
    if isinstance(request._request, ASGIRequest):
        response.streaming_content = _read_async(handle, response.block_size)
    return response


def _content_length(request: Request) -> int | None:
    try:
        value = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def _upload_target(file: FileAsset, request: Request) -> dict[str, Any]:
    target = file_storage().upload_instructions(
        file.storage_key, content_type=file.content_type, size=file.size
    )
    if target["url"] is None:
        target["url"] = request.build_absolute_uri(reverse("file-upload", args=[file.pk]))
    return target


class FileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = FileAssetSerializer
    filterset_class = FileFilter
    ordering_fields = ["filename", "size", "status", "created_at", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.file_list(user=self.request.user)

    @extend_schema(request=FileUploadCreateSerializer, responses={201: FileUploadSerializer})
    def create(self, request: Request) -> Response:
        """A pending file and where to upload its bytes; then call `complete/`."""
        incoming = FileUploadCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        file = services.file_create_upload(actor=request.user, **incoming.validated_data)
        file.upload = _upload_target(file, request)
        body = FileUploadSerializer(file, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: FileAsset) -> None:
        services.file_delete(file=instance, actor=self.request.user)

    @extend_schema(
        request=None,
        responses={200: FileAssetSerializer, 409: OpenApiResponse(UploadErrorSerializer)},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """The client finished uploading: check the object, mark the file uploaded."""
        file = services.file_complete_upload(file=self.get_object(), actor=request.user)
        return Response(FileAssetSerializer(file, context=self.get_serializer_context()).data)

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={200: FileAssetSerializer, **_UPLOAD_ERRORS},
    )
    @action(detail=True, methods=["put"], parser_classes=[RawBodyParser])
    def upload(self, request: Request, pk: str | None = None) -> Response:
        """Local storage only: the bytes, as the declared Content-Type and size."""
        file = services.file_receive_upload(
            file=self.get_object(),
            stream=request.stream,
            content_type=request.META.get("CONTENT_TYPE"),
            content_length=_content_length(request),
            actor=request.user,
        )
        return Response(FileAssetSerializer(file, context=self.get_serializer_context()).data)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="S3: a presigned GET of the object."),
            409: OpenApiResponse(description="The file has not been uploaded yet."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAccept)
    def content(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """The bytes of the file, for callers with a role: served, or redirected to S3."""
        file = self.get_object()
        if file.status == FileAsset.Status.PENDING:
            raise ConflictError("This file has not been uploaded yet.")
        backend = file_storage()
        if isinstance(backend, LocalFiles):
            try:
                handle = backend.open(file.storage_key)
            except FileNotFoundError:
                raise NotFound("The bytes of this file are missing from storage.") from None
            response: HttpResponseBase = _file_response(request, handle, file)
        else:
            response = HttpResponseRedirect(
                backend.download_url(file.storage_key, filename=file.filename)
            )
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Cache-Control"] = "private, no-store"
        return response
