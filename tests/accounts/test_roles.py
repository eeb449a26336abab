"""Roles: the groups the data migration makes, and what `me/` reports for each kind of user."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from accounts.roles import ALL_ROLES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

roles_migration = importlib.import_module("accounts.migrations.0001_roles")


def test_the_three_role_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"admins", "editors", "viewers"}


def test_the_roles_migration_makes_the_groups_again_and_only_once():
    Group.objects.filter(name__in=ALL_ROLES).delete()
    roles_migration.create_roles(apps, None)
    roles_migration.create_roles(apps, None)
    assert sorted(Group.objects.filter(name__in=ALL_ROLES).values_list("name", flat=True)) == [
        "admins",
        "editors",
        "viewers",
    ]


def test_the_roles_migration_reverses():
    roles_migration.remove_roles(apps, None)
    assert not Group.objects.filter(name__in=ALL_ROLES).exists()


def test_me_of_a_user_without_a_role_lists_no_roles(api_client_for, outsider):
    response = api_client_for(outsider).get("/api/v1/auth/me/")
    assert response.status_code == 200
    assert response.json() == {"id": outsider.id, "username": "olga", "roles": []}


def test_me_lists_every_role_of_a_user_with_several(api_client_for):
    both = UserFactory(username="bo", roles=["viewers", "editors"])
    assert api_client_for(both).get("/api/v1/auth/me/").json()["roles"] == ["editors", "viewers"]


def test_an_outsider_cannot_read_episodes(api_client_for, outsider):
    response = api_client_for(outsider).get("/api/v1/episodes/")
    assert response.status_code == 403
