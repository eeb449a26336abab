"""Serializers of episodes and compositions: validation and representation, no rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserRefSerializer, ViewerSerializer
from common.filters import MAX_ID
from common.parsers import MAX_JSON_DEPTH, json_depth
from episodes.models import MAX_EPISODE_NUMBER, MAX_SEASON, Composition, Episode

MAX_LAYOUT_BYTES = 64 * 1024
# PostgreSQL's jsonb cannot hold U+0000, and a lone surrogate cannot be encoded as UTF-8
# (neither stored nor rendered back): both would fail after validation, as a 500.
_UNSTORABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")


class EpisodeSerializer(serializers.ModelSerializer):
    title = serializers.CharField(max_length=200, allow_blank=False)
    episode_number = serializers.IntegerField(min_value=1, max_value=MAX_EPISODE_NUMBER)
    season = serializers.IntegerField(min_value=1, max_value=MAX_SEASON, default=1)
    description = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, default=""
    )
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Episode
        fields = [
            "id",
            "title",
            "episode_number",
            "season",
            "description",
            "status",
            "air_date",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "version", "created_at", "updated_at"]
        # Uniqueness is checked by the service so that a race is a 400 too, not a 500.
        validators: list = []


class ViewerStateSerializer(ViewerSerializer):
    """A viewer, and whether one of their connections is editing the resource."""

    state = serializers.ChoiceField(choices=["viewing", "editing"])


class EpisodeDetailSerializer(EpisodeSerializer):
    """The detail adds who is viewing the episode right now (one entry per user)."""

    viewers = ViewerStateSerializer(many=True, read_only=True)

    class Meta(EpisodeSerializer.Meta):
        fields = [*EpisodeSerializer.Meta.fields, "viewers"]


class EpisodeUpdateSerializer(EpisodeSerializer):
    """PATCH/PUT: the same fields; season keeps its current value unless given."""

    season = serializers.IntegerField(min_value=1, max_value=MAX_SEASON)


def validate_layout(value: Any) -> None:
    """What a layout must be, wherever it comes from (API or admin)."""
    if not isinstance(value, dict):
        raise DjangoValidationError("The layout must be a JSON object.")
    if json_depth(value) > MAX_JSON_DEPTH:
        raise DjangoValidationError(
            f"The layout must not be nested more than {MAX_JSON_DEPTH} levels deep."
        )
    if any(_UNSTORABLE_TEXT.search(text) for text in _texts(value)):
        raise DjangoValidationError(
            "The layout must not contain NUL characters or unpaired surrogates."
        )
    try:
        size = len(json.dumps(value, allow_nan=False))
    except ValueError:
        raise DjangoValidationError("The layout must hold finite numbers only.") from None
    if size > MAX_LAYOUT_BYTES:
        raise DjangoValidationError(f"The layout must be at most {MAX_LAYOUT_BYTES} bytes of JSON.")


def _texts(value: Any) -> Iterator[str]:
    """Every string of a JSON value, keys included, walked without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            yield from (key for key in node if isinstance(key, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@extend_schema_field({"type": "object", "additionalProperties": True})
class LayoutField(serializers.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[validate_layout], **kwargs)


def _episode_ref(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    """An episode id: a whole number in the id range, so `1.5` is a 400 and not episode 1."""
    return serializers.PrimaryKeyRelatedField(
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


class CompositionSerializer(serializers.ModelSerializer):
    episode = _episode_ref(queryset=Episode.objects.all())
    name = serializers.CharField(max_length=200, allow_blank=False)
    layout = LayoutField(required=False, default=dict)
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Composition
        fields = [
            "id",
            "episode",
            "name",
            "layout",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]


class CompositionUpdateSerializer(CompositionSerializer):
    """A composition stays with its episode: `episode` cannot change after creation."""

    episode = _episode_ref(read_only=True)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    status = serializers.CharField()
    allowed_from = serializers.ListField(child=serializers.CharField())


class EpisodeVersionMismatchSerializer(serializers.Serializer):
    """412: the If-Match version is not the stored one; `current` is the stored episode."""

    detail = serializers.CharField()
    code = serializers.CharField()
    current = EpisodeSerializer()


class CompositionVersionMismatchSerializer(serializers.Serializer):
    """412: the If-Match version is not the stored one; `current` is the stored composition."""

    detail = serializers.CharField()
    code = serializers.CharField()
    current = CompositionSerializer()


class SubscriptionSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    subscribed = serializers.BooleanField()
