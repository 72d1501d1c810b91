"""Let the "Provider staff" group see reminders and notifications (the booking page's inlines and the
delivery logs) and use "retry failed" (change). Which rows they see is still decided by
`Provider.staff` (notifications.selectors); nobody adds or deletes these rows in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Provider staff"
CODENAMES = ["view_reminder", "change_reminder", "view_notification", "change_notification"]


def grant(apps, schema_editor=None):
    app_config = apps.get_app_config("notifications")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="notifications", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="notifications", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_register_periodic_tasks"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
