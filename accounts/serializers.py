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
