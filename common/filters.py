"""Filter backends shared by the viewsets."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` that answers an unknown field with a 400 instead of silently ignoring it."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        invalid = [term for term in fields if term.lstrip("-") not in valid]
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
