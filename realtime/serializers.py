"""Serializers of the activity feed, notifications, their preferences, and events."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserRefSerializer, ViewerSerializer
from common.filters import MAX_ID
from realtime.models import NOTIFICATION_TYPES, Activity, Notification

# More than anyone mutes by hand; a bound on the body and on the IN list of its check.
MUTED_EPISODES_MAX = 1000


class ActivitySerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "user", "action", "resource_type", "resource_id", "metadata", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "type", "message", "data", "read_at", "created_at", "updated_at"]


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()


class EventFrameSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    event = serializers.CharField()
    stream = serializers.CharField()
    data = serializers.DictField()
    timestamp = serializers.CharField()


class EventsPageSerializer(serializers.Serializer):
    events = EventFrameSerializer(many=True)
    last_event_id = serializers.IntegerField()
    has_more = serializers.BooleanField()


class TooOldSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()


class PresenceSerializer(serializers.Serializer):
    viewers = ViewerSerializer(many=True)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: `"no"` or `0` is a mistake, not a choice."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NotificationTypesSerializer(serializers.Serializer):
    """One switch per notification type; a type named that does not exist is a field error."""

    def get_fields(self):
        return {name: StrictBooleanField(required=False) for name in NOTIFICATION_TYPES}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in NOTIFICATION_TYPES)
            if unknown:
                known = ", ".join(NOTIFICATION_TYPES)
                raise serializers.ValidationError(
                    {key: [f"Not a notification type; the types are {known}."] for key in unknown}
                )
        return super().to_internal_value(data)


class NotificationPreferencesSerializer(serializers.Serializer):
    """`types`: on (true) or off per type. `muted_episodes`: ids of the episodes muted."""

    types = NotificationTypesSerializer()
    muted_episodes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MUTED_EPISODES_MAX,
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)

    def validate_muted_episodes(self, value: list[int]) -> list[int]:
        from episodes.models import Episode

        wanted = sorted(set(value))
        found = set(Episode.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = [str(pk) for pk in wanted if pk not in found]
        if missing:
            raise serializers.ValidationError(f"No episode with the id {', '.join(missing)}.")
        return wanted


class EpisodeMuteSerializer(serializers.Serializer):
    episode = serializers.IntegerField()
    muted = serializers.BooleanField()
