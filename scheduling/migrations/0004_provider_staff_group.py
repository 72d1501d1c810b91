"""The "Provider staff" group: what a provider's staff may do in the console (issue 4).

Which rows they see is decided by `Provider.staff` (scheduling.selectors.providers_for_user); this
group only grants the model permissions:
- providers: view and change (adding or deleting a provider, and its staff list, stay with superusers);
- availability rules and blocked times: everything;
- bookings: view, add (the create-a-booking flow) and change (notes and the transition buttons,
  which call the booking services); never delete;
- customers: view only (a customer may book several providers; their record is not one provider's).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Provider staff"
PERMISSIONS = {
    "provider": ["view", "change"],
    "availabilityrule": ["view", "add", "change", "delete"],
    "blockedtime": ["view", "add", "change", "delete"],
    "booking": ["view", "add", "change"],
    "customer": ["view"],
}


def grant(apps, schema_editor=None):
    # Permissions are normally created after `migrate` finishes; make sure they exist now.
    app_config = apps.get_app_config("scheduling")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions]
    permissions = list(Permission.objects.filter(content_type__app_label="scheduling", codename__in=codenames))
    missing = set(codenames) - {p.codename for p in permissions}
    if missing:
        raise RuntimeError(f"Permissions not found: {', '.join(sorted(missing))}")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*permissions)  # additive: other apps grant this group their own permissions


def revoke(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0003_api_idempotency"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
