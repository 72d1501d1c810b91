"""Let the "Provider staff" group read payments and the gateway calls owed (the console's ledger pages).
Which rows they see is still decided by `Provider.staff` (payments/admin.py); nobody adds, changes or
deletes these rows in the admin: refunds and "mark paid" go through payments.services."""

from django.db import migrations

from booking_site.migration_operations import grant_to_provider_staff, revoke_from_provider_staff

CODENAMES = ["view_payment", "view_gatewaycall"]


def grant(apps, schema_editor=None):
    grant_to_provider_staff(apps, app_label="payments", codenames=CODENAMES)


def revoke(apps, schema_editor):
    revoke_from_provider_staff(apps, app_label="payments", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_register_gateway_call_sweep"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
