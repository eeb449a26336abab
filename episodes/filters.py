"""django-filter filter sets of episodes and compositions."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from common.filters import MAX_ID, IntegerFilter
from episodes.models import MAX_SEASON, Composition, Episode


class EpisodeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Episode.Status.choices)
    season = IntegerFilter(min_value=1, max_value=MAX_SEASON)
    search = django_filters.CharFilter(method="filter_search", max_length=500)

    class Meta:
        model = Episode
        fields = ["status", "season", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class CompositionFilter(django_filters.FilterSet):
    episode = IntegerFilter(field_name="episode_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Composition
        fields = ["episode"]
