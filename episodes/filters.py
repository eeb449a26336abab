"""django-filter filter sets of episodes and compositions."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from episodes.models import Composition, Episode


class EpisodeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Episode.Status.choices)
    season = django_filters.NumberFilter(min_value=1)
    search = django_filters.CharFilter(method="filter_search", max_length=500)

    class Meta:
        model = Episode
        fields = ["status", "season", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class CompositionFilter(django_filters.FilterSet):
    episode = django_filters.NumberFilter(field_name="episode_id", min_value=1)

    class Meta:
        model = Composition
        fields = ["episode"]
