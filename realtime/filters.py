"""django-filter filter sets of the activity feed and notifications: a bad value is a 400."""

from __future__ import annotations

import django_filters
from django import forms

from common.filters import MAX_ID, IntegerFilter
from realtime.models import Activity, Notification


class StrictBooleanField(forms.Field):
    """`true`/`false` (or `1`/`0`); anything else is an error, not silently no filter."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ActivityFilter(django_filters.FilterSet):
    resource_type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in ("episode", "composition", "file", "job")]
    )
    resource_id = IntegerFilter(min_value=1, max_value=MAX_ID)
    user = IntegerFilter(field_name="user_id", min_value=1, max_value=MAX_ID)
    action = django_filters.CharFilter(max_length=64)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = ["resource_type", "resource_id", "user", "action", "since"]


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]
