"""Pagination classes that answer a bad page parameter with a 400 naming it."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


def _positive_int_param(request, name: str) -> None:
    raw = request.query_params.get(name)
    # An empty value means "not given", as in DRF and in the filters.
    if not raw or raw == "last":
        return
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["A positive integer is required."]}) from None
    if value < 1:
        raise ValidationError({name: ["A positive integer is required."]})


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int_param(request, self.page_query_param)
        _positive_int_param(request, self.page_size_query_param)
        return super().paginate_queryset(queryset, request, view)


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int_param(request, self.page_size_query_param)
        return super().paginate_queryset(queryset, request, view)
