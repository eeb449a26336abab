"""Serializers of episodes and compositions: validation and representation, no rules."""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserRefSerializer
from episodes.models import MAX_EPISODE_NUMBER, MAX_SEASON, Composition, Episode

MAX_LAYOUT_BYTES = 64 * 1024


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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]
        # Uniqueness is checked by the service so that a race is a 400 too, not a 500.
        validators: list = []


class EpisodeUpdateSerializer(EpisodeSerializer):
    """PATCH/PUT: the same fields; season keeps its current value unless given."""

    season = serializers.IntegerField(min_value=1, max_value=MAX_SEASON)


@extend_schema_field({"type": "object", "additionalProperties": True})
class LayoutField(serializers.JSONField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("The layout must be a JSON object.")
        if len(json.dumps(value)) > MAX_LAYOUT_BYTES:
            raise serializers.ValidationError(
                f"The layout must be at most {MAX_LAYOUT_BYTES} bytes of JSON."
            )
        return value


class CompositionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200, allow_blank=False)
    layout = LayoutField(required=False, default=dict)
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Composition
        fields = ["id", "episode", "name", "layout", "created_by", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class CompositionUpdateSerializer(CompositionSerializer):
    """A composition stays with its episode: `episode` cannot change after creation."""

    class Meta(CompositionSerializer.Meta):
        read_only_fields = ["episode", "created_at", "updated_at"]


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    status = serializers.CharField()
    allowed_from = serializers.ListField(child=serializers.CharField())


class SubscriptionSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    subscribed = serializers.BooleanField()
