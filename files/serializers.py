"""Serializers of files: the FileAsset of CONTRACT.md, the upload request, the upload target."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common.filters import MAX_ID
from episodes.models import Episode
from files.models import FileAsset
from files.storage import file_storage

FILENAME_MAX_CHARS = 1024


class FileAssetSerializer(serializers.ModelSerializer):
    """`url` reads the bytes: a presigned GET (S3) or the API's content URL (local); null
    while the file is pending. Without a request (events) it is the API path, which
    outlives a presigned URL."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = FileAsset
        fields = [
            "id",
            "episode",
            "filename",
            "content_type",
            "size",
            "checksum_sha256",
            "status",
            "metadata",
            "url",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_url(self, file: FileAsset) -> str | None:
        if file.status == FileAsset.Status.PENDING or self.context.get("deleted"):
            return None
        path = reverse("file-content", args=[file.pk])
        request = self.context.get("request")
        if request is None:
            return path
        direct = file_storage().download_url(file.storage_key, filename=file.filename)
        return direct or request.build_absolute_uri(path)


class FilenameField(serializers.CharField):
    """Any text: the service makes a safe name of it, dropping NUL and lone surrogates, so
    a name is never refused for what it contains."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(
                validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator
            )
        ]


class FileUploadCreateSerializer(serializers.Serializer):
    """POST files/: what the client is about to upload."""

    episode = serializers.PrimaryKeyRelatedField(
        queryset=Episode.objects.all(),
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID),
    )
    filename = FilenameField(max_length=FILENAME_MAX_CHARS, trim_whitespace=False)
    content_type = serializers.CharField(max_length=255)
    size = serializers.IntegerField(min_value=1, max_value=MAX_ID)


_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


@extend_schema_field(
    {
        "type": "object",
        "description": "Where and how to send the bytes: `fields` of a POST form (S3), or "
        "`headers` of a PUT (local storage).",
        "properties": {
            "method": {"type": "string", "enum": ["POST", "PUT"]},
            "url": {"type": "string", "format": "uri"},
            "fields": _STRING_MAP,
            "headers": _STRING_MAP,
        },
        "required": ["method", "url"],
    }
)
class UploadTargetField(serializers.DictField):
    pass


class FileUploadSerializer(FileAssetSerializer):
    """The answer to POST files/: the pending file and its upload target."""

    upload = UploadTargetField(read_only=True)

    class Meta(FileAssetSerializer.Meta):
        fields = [*FileAssetSerializer.Meta.fields, "upload"]
        read_only_fields = fields


class UploadErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    expected_size = serializers.IntegerField(required=False)
    received_size = serializers.IntegerField(required=False)
    expected_content_type = serializers.CharField(required=False)
