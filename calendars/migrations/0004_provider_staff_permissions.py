"""Let the "Provider staff" group link, sync and remove their providers' calendar connections in the
console. Which rows they see is still decided by `Provider.staff` (calendars/admin.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Provider staff"
CODENAMES = [
    "view_calendarconnection", "add_calendarconnection", "change_calendarconnection", "delete_calendarconnection",
]  # fmt: skip


def grant(apps, schema_editor=None):
    app_config = apps.get_app_config("calendars")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES))
    if len(permissions) != len(CODENAMES):
        raise RuntimeError("Calendar permissions not found.")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0003_register_calendar_sync"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
