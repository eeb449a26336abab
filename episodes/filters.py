"""django-filter filter sets of episodes and compositions."""

from __future__ import annotations

import django_filters

from common.filters import MAX_ID, IntegerFilter
from episodes.models import MAX_SEASON, Composition, Episode
from episodes.search import MAX_QUERY_CHARS, episode_search, remember_backend


class EpisodeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Episode.Status.choices)
    season = IntegerFilter(min_value=1, max_value=MAX_SEASON)
    # Longer is a 400 naming `search`, as is a NUL character (like every text filter).
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_QUERY_CHARS,
        help_text=(
            'Full text over title and description: words, "a phrase", -excluded. '
            "Ordered by relevance unless `ordering` is given; the X-Search-Backend "
            "response header names the backend that answered."
        ),
    )

    class Meta:
        model = Episode
        fields = ["status", "season", "search"]

    def filter_search(self, queryset, name, value):
        result = episode_search(queryset=queryset, text=value)
        remember_backend(self.request, result)
        return result.queryset


class CompositionFilter(django_filters.FilterSet):
    episode = IntegerFilter(field_name="episode_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Composition
        fields = ["episode"]
