"""The "Provider staff" group may manage services in the console (issue 12).

Which services a staff user sees and may change is decided by their providers
(`scheduling.selectors.services_for_user` and `service_managed_by`); this grants the model
permissions: view, add, change and delete (a service with bookings is deactivated, never deleted).
"""

import importlib

from django.contrib.auth.management import create_permissions
from django.db import migrations

staff_group = importlib.import_module("scheduling.migrations.0004_provider_staff_group")
CODENAMES = ["view_service", "add_service", "change_service", "delete_service"]


def grant(apps, schema_editor=None):
    app_config = apps.get_app_config("scheduling")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="scheduling", codename__in=CODENAMES))
    if len(permissions) != len(CODENAMES):
        raise RuntimeError("Service permissions not found.")
    group, _ = Group.objects.get_or_create(name=staff_group.GROUP_NAME)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=staff_group.GROUP_NAME):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="scheduling", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0010_provider_settings_move_to_service")]

    operations = [migrations.RunPython(grant, revoke)]
