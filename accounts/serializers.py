"""Serializers of the auth endpoints."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.roles import user_roles


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "roles"]

    def get_roles(self, user) -> list[str]:
        return user_roles(user)


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenErrorSerializer(serializers.Serializer):
    """The 400 of the token endpoint, as DRF's obtain_auth_token answers it."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    username = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)


class DetailSerializer(serializers.Serializer):
    """An error with a message only: refused credentials, missing login or CSRF token."""

    detail = serializers.CharField()


class ViewerSerializer(serializers.Serializer):
    """A user viewing a resource right now (presence), once however many tabs."""

    user_id = serializers.IntegerField()
    username = serializers.CharField()
    since = serializers.DateTimeField()
