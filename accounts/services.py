"""Writes of the accounts app: signing in and out, tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def _authenticate(*, request: HttpRequest, username: str, password: str):
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthenticationFailed("Invalid username or password.")
    return user


def session_login(*, request: HttpRequest, username: str, password: str):
    user = _authenticate(request=request, username=username, password=password)
    login(request, user)
    return user


def session_logout(*, request: HttpRequest) -> None:
    logout(request)


def token_obtain(*, request: HttpRequest, username: str, password: str) -> str:
    user = _authenticate(request=request, username=username, password=password)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
