"""Let the "Provider staff" group link, sync and remove their providers' calendar connections in the
console. Which rows they see is still decided by `Provider.staff` (calendars/admin.py)."""

from django.db import migrations

from booking_site.migration_operations import grant_to_provider_staff, revoke_from_provider_staff

CODENAMES = [
    "view_calendarconnection", "add_calendarconnection", "change_calendarconnection", "delete_calendarconnection",
]  # fmt: skip


def grant(apps, schema_editor=None):
    grant_to_provider_staff(apps, app_label="calendars", codenames=CODENAMES)


def revoke(apps, schema_editor):
    revoke_from_provider_staff(apps, app_label="calendars", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0003_register_calendar_sync"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
