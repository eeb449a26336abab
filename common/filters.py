"""Filter backends and filters shared by the viewsets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import F
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

# The largest value a database id (bigint) can hold; beyond it SQLite raises OverflowError.
MAX_ID = 2**63 - 1


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter: `1.5` or `1e3` is a 400, not silently truncated to an integer."""

    field_class = forms.IntegerField


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` that answers an unknown field with a 400 instead of silently ignoring it.

    The primary key is appended as a tie-breaker, in the direction of the last term, so that
    pages of a list ordered by a non-unique field neither repeat nor skip rows, and a
    descending order is exactly the reverse of the ascending one.
    Nulls sort as the largest value (PostgreSQL's default; SQLite's is the opposite), so that
    the order of a nullable field is the same on every database.
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        invalid = [term for term in fields if term.removeprefix("-") not in valid]
        if invalid:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown ordering field(s): {', '.join(sorted(invalid))}. "
                        f"Allowed: {', '.join(sorted(valid))}."
                    ]
                }
            )
        return super().remove_invalid_fields(queryset, fields, view, request)

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering or not all(isinstance(term, str) for term in ordering):
            return ordering
        terms = list(ordering)
        if not any(term.removeprefix("-") in ("pk", "id") for term in terms):
            terms.append("-pk" if terms[-1].startswith("-") else "pk")
        return terms

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*(_nulls_as_largest(term) for term in ordering))


def _nulls_as_largest(term: Any) -> Any:
    if not isinstance(term, str):
        return term
    if term.startswith("-"):
        return F(term[1:]).desc(nulls_first=True)
    return F(term).asc(nulls_last=True)
