import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.scheduling.conftest import open_all_day_provider

staff_group_migration = importlib.import_module("scheduling.migrations.0004_provider_staff_group")


def provider_staff_group() -> Group:
    """The "Provider staff" group, made by the data migration's own function (idempotent)."""
    staff_group_migration.grant(django_apps)
    return Group.objects.get(name=staff_group_migration.GROUP_NAME)


def grant(user, *codenames: str):
    """Give `user` scheduling permissions such as "add_provider", beyond their groups'."""
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="scheduling", codename__in=codenames))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


@pytest.fixture
def anon():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def staff_a(db):
    """Staff of provider A with the console's staff permissions (the "Provider staff" group)."""
    user = UserFactory(username="staff-a")
    user.groups.add(provider_staff_group())
    return user


@pytest.fixture
def staff_b(db):
    user = UserFactory(username="staff-b")
    user.groups.add(provider_staff_group())
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def provider_a(staff_a):
    provider = open_all_day_provider(name="A Dentist", slug="a-dentist", price="80.00", late_cancel_fee="20.00")
    provider.staff.add(staff_a)
    return provider


@pytest.fixture
def provider_b(staff_b):
    provider = open_all_day_provider(name="B Room", slug="b-room", timezone="Europe/Berlin")
    provider.staff.add(staff_b)
    return provider


@pytest.fixture
def as_a(staff_a):
    return client_for(staff_a)


@pytest.fixture
def as_b(staff_b):
    return client_for(staff_b)


@pytest.fixture
def as_root(superuser):
    return client_for(superuser)
