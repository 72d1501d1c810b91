"""Branding and the "Provider staff" group made by the data migration."""

import pytest
from django.contrib.auth.models import Group

from tests.admin.conftest import service_permissions_migration, staff_group_migration

pytestmark = pytest.mark.django_db

CONSOLE_PERMISSIONS = {
    "view_provider", "change_provider",
    "view_availabilityrule", "add_availabilityrule", "change_availabilityrule", "delete_availabilityrule",
    "view_blockedtime", "add_blockedtime", "change_blockedtime", "delete_blockedtime",
    "view_booking", "add_booking", "change_booking",
    "view_customer",
}  # fmt: skip
# Granted by scheduling/migrations/0011_provider_staff_service_permissions.py.
SERVICE_PERMISSIONS = {"view_service", "add_service", "change_service", "delete_service"}


def scheduling_codenames(group) -> set[str]:
    """The group's permissions on scheduling models (other apps add their own to the same group)."""
    return set(group.permissions.filter(content_type__app_label="scheduling").values_list("codename", flat=True))


def test_admin_pages_carry_the_console_branding(as_superuser):
    response = as_superuser.get("/admin/")
    assert response.status_code == 200
    assert "Booking platform · provider console" in response.content.decode()
    assert "<title>Back office | Provider console</title>" in response.content.decode()


def test_the_data_migration_grants_forwards_and_revokes_backwards(staff_group):
    from django.apps import apps

    operation = staff_group_migration.Migration.operations[0]
    assert (operation.code, operation.reverse_code) == (staff_group_migration.grant, staff_group_migration.revoke)
    staff_group_migration.revoke(apps, None)
    assert not Group.objects.filter(name="Provider staff").exists()
    staff_group_migration.grant(apps)
    assert scheduling_codenames(Group.objects.get(name="Provider staff")) == CONSOLE_PERMISSIONS


def test_the_service_permissions_migration_grants_forwards_and_revokes_backwards(staff_group):
    from django.apps import apps

    service_permissions_migration.revoke(apps, None)
    assert scheduling_codenames(staff_group) == CONSOLE_PERMISSIONS
    service_permissions_migration.grant(apps)
    assert scheduling_codenames(staff_group) == CONSOLE_PERMISSIONS | SERVICE_PERMISSIONS


def test_provider_staff_group_has_exactly_the_console_permissions(staff_group):
    assert scheduling_codenames(staff_group) == CONSOLE_PERMISSIONS | SERVICE_PERMISSIONS


def test_granting_keeps_permissions_other_apps_gave_the_group(staff_group):
    from django.apps import apps
    from django.contrib.auth.models import Permission

    other = Permission.objects.get(codename="view_group")
    staff_group.permissions.add(other)
    staff_group_migration.grant(apps)
    assert staff_group.permissions.filter(pk=other.pk).exists()


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
