"""Fixtures for the provider console: two providers in different zones, their staff, a superuser."""

import importlib
import re
from datetime import time, timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.utils import timezone

from tests.factories import AvailabilityRuleFactory, ProviderFactory, UserFactory

staff_group_migration = importlib.import_module("scheduling.migrations.0004_provider_staff_group")
service_permissions_migration = importlib.import_module("scheduling.migrations.0011_provider_staff_service_permissions")


def open_all_day(**fields):
    """A provider open around the clock every day, 30-minute slots on the hour and half hour."""
    provider = ProviderFactory(**fields)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(0), end_time=time(0))
    return provider


def slot_in(days: int, *, hour: int = 15, minute: int = 0):
    """A UTC instant `days` ahead at hour:minute UTC: on the grid of every whole-hour-offset zone."""
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def management_data(html: str) -> dict[str, str]:
    """The inline formsets' management fields of a rendered change form, as a browser would post them."""
    pattern = r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d+)"'
    return dict(re.findall(pattern, html))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def staff_group(db):
    """The "Provider staff" group, made by the data migration's own function (idempotent)."""
    staff_group_migration.grant(django_apps)
    service_permissions_migration.grant(django_apps)
    return Group.objects.get(name=staff_group_migration.GROUP_NAME)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def provider_a(db):
    return open_all_day(
        name="Alpha Dental", slug="alpha", timezone="America/New_York", price="100.00", late_cancel_fee="25.00"
    )


@pytest.fixture
def provider_b(db):
    return open_all_day(name="Beta Rooms", slug="beta", timezone="Europe/Berlin", kind="room")


def make_staff(group, *providers, username=None):
    user = UserFactory(**({"username": username} if username else {}))
    user.groups.add(group)
    for provider in providers:
        provider.staff.add(user)
    return user


@pytest.fixture
def staff_a(staff_group, provider_a):
    return make_staff(staff_group, provider_a, username="staff-a")


@pytest.fixture
def staff_b(staff_group, provider_b):
    return make_staff(staff_group, provider_b, username="staff-b")


@pytest.fixture
def as_superuser(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def as_staff_a(client, staff_a):
    client.force_login(staff_a)
    return client


@pytest.fixture
def as_staff_b(client, staff_b):
    client.force_login(staff_b)
    return client
