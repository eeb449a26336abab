"""Serializers of jobs: the Job of CONTRACT.md, and the request that queues one."""

from __future__ import annotations

import json
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.filters import MAX_ID
from common.parsers import MAX_JSON_DEPTH, json_depth
from episodes.models import Episode
from files.models import FileAsset
from jobs import registry
from jobs.errors import JobParamsError
from jobs.models import Job

MAX_PARAMS_BYTES = 16 * 1024
# PostgreSQL's jsonb cannot hold U+0000, nor can a lone surrogate be encoded as UTF-8.
_UNSTORABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "type",
            "status",
            "episode",
            "file",
            "params",
            "progress",
            "attempts",
            "max_attempts",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


def _texts(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            found.extend(key for key in node if isinstance(key, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@extend_schema_field({"type": "object", "additionalProperties": True})
class ParamsField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("params must be a JSON object.")
        if json_depth(value) > MAX_JSON_DEPTH:
            raise serializers.ValidationError("params are nested too deeply.")
        if any(_UNSTORABLE_TEXT.search(text) for text in _texts(value)):
            raise serializers.ValidationError("params must not contain NUL characters.")
        try:
            size = len(json.dumps(value, allow_nan=False))
        except ValueError:
            raise serializers.ValidationError("params must hold finite numbers only.") from None
        if size > MAX_PARAMS_BYTES:
            raise serializers.ValidationError(f"params must be at most {MAX_PARAMS_BYTES} bytes.")
        return value


def _ref(queryset: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset,
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_null=True,
    )


class JobCreateSerializer(serializers.Serializer):
    """POST jobs/: a job of a registered type, on an episode and/or one of its files."""

    type = serializers.ChoiceField(choices=[])
    episode = _ref(Episode.objects.all())
    file = _ref(FileAsset.objects.all())
    params = ParamsField(required=False, default=dict)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = sorted(registry.job_types())

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        episode: Episode | None = attrs.get("episode")
        file: FileAsset | None = attrs.get("file")
        if file is not None:
            if episode is None:
                episode = attrs["episode"] = file.episode
            elif file.episode_id != episode.pk:
                raise serializers.ValidationError(
                    {"file": ["This file belongs to another episode."]}
                )
        try:
            attrs["params"] = registry.check_job(
                type=attrs["type"],
                params=attrs.get("params"),
                has_episode=episode is not None,
                has_file=file is not None,
            )
        except JobParamsError as exc:
            field = "params" if attrs.get("params") else "non_field_errors"
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        return attrs
