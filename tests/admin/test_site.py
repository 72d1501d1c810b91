"""Branding and the "Provider staff" group made by the data migration."""

import pytest
from django.contrib.auth.models import Group

from tests.admin.conftest import staff_group_migration

pytestmark = pytest.mark.django_db


def test_admin_pages_carry_the_console_branding(as_superuser):
    response = as_superuser.get("/admin/")
    assert response.status_code == 200
    assert "Booking platform · provider console" in response.content.decode()
    assert "<title>Back office | Provider console</title>" in response.content.decode()


def test_migration_created_the_provider_staff_group():
    # Made by scheduling/migrations/0004 when the test database was migrated.
    assert Group.objects.filter(name="Provider staff").exists()


def test_provider_staff_group_has_exactly_the_console_permissions(staff_group):
    codenames = set(staff_group.permissions.values_list("codename", flat=True))
    assert codenames == {
        "view_provider", "change_provider",
        "view_availabilityrule", "add_availabilityrule", "change_availabilityrule", "delete_availabilityrule",
        "view_blockedtime", "add_blockedtime", "change_blockedtime", "delete_blockedtime",
        "view_booking", "add_booking", "change_booking",
        "view_customer",
    }  # fmt: skip


def test_granting_twice_leaves_one_group_with_the_same_permissions(staff_group):
    before = set(staff_group.permissions.all())
    from django.apps import apps

    staff_group_migration.grant(apps)
    assert Group.objects.filter(name="Provider staff").count() == 1
    assert set(Group.objects.get(name="Provider staff").permissions.all()) == before


def test_staff_member_of_the_group_sees_the_scheduling_models_on_the_index(as_staff_a):
    body = as_staff_a.get("/admin/").content.decode()
    for link in ("/admin/scheduling/provider/", "/admin/scheduling/booking/", "/admin/scheduling/blockedtime/"):
        assert link in body


def test_staff_user_outside_the_group_cannot_open_the_booking_list(client, provider_a):
    from tests.factories import UserFactory

    user = UserFactory(username="no-group")
    provider_a.staff.add(user)
    client.force_login(user)
    assert client.get("/admin/scheduling/booking/").status_code == 403
