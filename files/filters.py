"""django-filter filter set of files: a bad value is a 400."""

from __future__ import annotations

import django_filters

from common.filters import MAX_ID, IntegerFilter
from files.models import FileAsset


class FileFilter(django_filters.FilterSet):
    episode = IntegerFilter(field_name="episode_id", min_value=1, max_value=MAX_ID)
    status = django_filters.ChoiceFilter(choices=FileAsset.Status.choices)

    class Meta:
        model = FileAsset
        fields = ["episode", "status"]
