"""django-filter filter sets of the activity feed and notifications."""

from __future__ import annotations

import django_filters

from realtime.models import Activity, Notification


class ActivityFilter(django_filters.FilterSet):
    resource_type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in ("episode", "composition", "file", "job")]
    )
    resource_id = django_filters.NumberFilter(min_value=1)
    user = django_filters.NumberFilter(field_name="user_id", min_value=1)
    action = django_filters.CharFilter(max_length=64)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = ["resource_type", "resource_id", "user", "action", "since"]


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]
