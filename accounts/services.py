"""Writes of the accounts app: signing in and out, tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def _authenticate(*, request: HttpRequest, username: str, password: str) -> AbstractBaseUser:
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise AuthenticationFailed("Invalid username or password.")
    return user


def session_login(*, request: HttpRequest, username: str, password: str) -> AbstractBaseUser:
    user = _authenticate(request=request, username=username, password=password)
    login(request, user)
    return user


def session_logout(*, request: HttpRequest) -> None:
    logout(request)


def token_obtain(*, user: AbstractBaseUser) -> str:
    """The user's API token, made on first use; the same key every time after."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
