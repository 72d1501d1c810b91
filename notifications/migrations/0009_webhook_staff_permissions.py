"""Let the "Provider staff" group manage their own webhook endpoints (make, change, remove, ping,
rotate the secret, enable) and read and replay their delivery logs, in the API and the console. Whose
rows they reach is still decided by ownership (notifications.selectors.webhook_endpoints_for_user)."""

from django.db import migrations

from booking_site.migration_operations import grant_to_provider_staff, revoke_from_provider_staff

CODENAMES = [
    "view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint", "delete_webhookendpoint",
    "view_webhookdelivery", "change_webhookdelivery", "view_webhookattempt",
]  # fmt: skip


def grant(apps, schema_editor=None):
    grant_to_provider_staff(apps, app_label="notifications", codenames=CODENAMES)


def revoke(apps, schema_editor):
    revoke_from_provider_staff(apps, app_label="notifications", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0008_register_webhook_sweep"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
