"""Serializers of the activity feed, notifications and events."""

from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserRefSerializer, ViewerSerializer
from realtime.models import Activity, Notification


class ActivitySerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "user", "action", "resource_type", "resource_id", "metadata", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "type", "message", "data", "read_at", "created_at"]


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
