"""Auth endpoints: session login/logout, token, me."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, throttles
from accounts.authentication import enforce_csrf
from accounts.serializers import (
    CredentialsSerializer,
    DetailSerializer,
    MeSerializer,
    TokenErrorSerializer,
    TokenSerializer,
)

# Attempts per client IP, and failures per username and client IP (accounts/throttles.py).
CREDENTIAL_THROTTLES = [throttles.LoginRateThrottle, throttles.LoginFailureThrottle]


class LoginView(APIView):
    """Session login. CSRF applies: GET `me/` first to receive the csrftoken cookie."""

    permission_classes = [AllowAny]
    throttle_classes = CREDENTIAL_THROTTLES

    @extend_schema(
        request=CredentialsSerializer, responses={200: MeSerializer, 403: DetailSerializer}
    )
    def post(self, request):
        enforce_csrf(request)
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        try:
            user = services.session_login(request=request._request, **credentials.validated_data)
        except AuthenticationFailed:
            throttles.login_failed(request)
            raise
        throttles.login_succeeded(request)
        return Response(MeSerializer(user).data)


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.session_logout(request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    """DRF's obtain_auth_token: wrong credentials or an inactive user → 400 `non_field_errors`."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = CREDENTIAL_THROTTLES

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 400: TokenErrorSerializer},
    )
    def post(self, request):
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        if not credentials.is_valid():
            # Both fields were given, and they do not name an active user: a failed attempt.
            if set(credentials.errors) == {"non_field_errors"}:
                throttles.login_failed(request)
            raise ValidationError(credentials.errors)
        throttles.login_succeeded(request)
        token = services.token_obtain(user=credentials.validated_data["user"])
        return Response({"token": token})


@method_decorator(ensure_csrf_cookie, name="dispatch")
class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, 403: DetailSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)
