"""django-filter filter set of jobs."""

from __future__ import annotations

import django_filters

from common.filters import MAX_ID, IntegerFilter
from jobs.models import Job


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    type = django_filters.CharFilter(max_length=32)
    episode = IntegerFilter(field_name="episode_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Job
        fields = ["status", "type", "episode"]
