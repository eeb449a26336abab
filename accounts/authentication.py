"""Token authentication that answers 401 only to clients that sent a token.

DRF asks the first authentication class for a `WWW-Authenticate` header to decide between
401 and 403. The contract says token clients get 401 and session clients 403, so the header
is offered only when the request carries an Authorization header.
"""

from __future__ import annotations

import re

from rest_framework import authentication, exceptions

# DRF's tokens are 40 hex characters; anything else is refused before it reaches the database
# (PostgreSQL rejects a NUL byte in a query parameter with an error, not a miss).
_TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


def enforce_csrf(request) -> None:
    """Apply the session CSRF check to a view open to anonymous users (login)."""
    authentication.SessionAuthentication().enforce_csrf(request)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        if not _TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)

    def authenticate_header(self, request) -> str | None:
        if request.META.get("HTTP_AUTHORIZATION"):
            return self.keyword
        return None
