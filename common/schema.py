"""The OpenAPI schema class: every operation documents the errors it can answer with.

drf-spectacular documents only the success response unless a view says more, so a client
(or schemathesis' status-code check) would see 400, 401, 403, 404... as undocumented. They
are added here, from what the view really does, wherever the view did not document them:

- 400 where the operation reads a body or query parameters (field errors);
- 401 where a token is accepted (a bad `Authorization` header);
- 403 where a permission can refuse, or CSRF applies (unsafe method with sessions);
- 404 where the path names an object, or a list takes a page or cursor (DRF answers an
  out-of-range page or a forged cursor with 404);
- 413 and 415 where there is a body (too large; not JSON);
- 429 where the view is throttled, and 503 everywhere (the database, or the presence
  store, is unreachable: common/errors.py), each with its `Retry-After` header.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny


class ErrorSerializer(serializers.Serializer):
    """An error with a message; domain errors add a `code` and fields of their own."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# The query parameters of DRF's paginations that name a page.
PAGE_PARAMETERS = frozenset({"page", "cursor"})
FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "description": "Field name (or `non_field_errors`, or `detail`) to its error messages.",
    "additionalProperties": {},
}

_DESCRIPTIONS = {
    "400": "Invalid input: the field errors",
    "401": "The token sent is invalid",
    "403": "Not allowed: no role, the wrong role, or a missing CSRF token",
    "404": "No such object, one the caller may not see, or no such page",
    "413": "The request body is too large",
    "415": "The body is not JSON",
    "429": "Too many attempts: wait `Retry-After` seconds",
    "503": "A service it needs is unavailable: try again after `Retry-After` seconds",
}
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again",
    }
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                body = FIELD_ERRORS if code == "400" else ErrorSerializer
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(body, description=_DESCRIPTIONS[code]), code
                )
                if code in ("429", "503"):
                    responses[code]["headers"] = dict(_RETRY_AFTER)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        authenticators = self.view.get_authenticators()
        codes = []
        if has_body or any(parameter["in"] == "query" for parameter in parameters):
            codes.append("400")
        if any(isinstance(auth, TokenAuthentication) for auth in authenticators):
            codes.append("401")
        guarded = any(not isinstance(rule, AllowAny) for rule in self.view.get_permissions())
        csrf = self.method not in SAFE_METHODS and any(
            isinstance(auth, SessionAuthentication) for auth in authenticators
        )
        if guarded or csrf:
            codes.append("403")
        if any(
            parameter["in"] == "path"
            or (parameter["in"] == "query" and parameter["name"] in PAGE_PARAMETERS)
            for parameter in parameters
        ):
            codes.append("404")
        if has_body:
            codes.extend(["413", "415"])
        if self.view.get_throttles():
            codes.append("429")
        codes.append("503")
        return codes
