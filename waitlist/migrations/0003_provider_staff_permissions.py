"""Let the "Provider staff" group see the waitlist in the console and act on it through its services:
view and change entries ("Withdraw", "Offer the next free time now" call waitlist.services), view the
waitlist's messages. Which rows they see is still decided by `Provider.staff`
(waitlist.selectors_api.waitlist_entries_for_user); nobody adds, edits or deletes these rows by hand."""

from django.db import migrations

from booking_site.migration_operations import grant_to_provider_staff, revoke_from_provider_staff

CODENAMES = ["view_waitlistentry", "change_waitlistentry", "view_waitlistmessage"]


def grant(apps, schema_editor=None):
    grant_to_provider_staff(apps, app_label="waitlist", codenames=CODENAMES)


def revoke(apps, schema_editor):
    revoke_from_provider_staff(apps, app_label="waitlist", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("waitlist", "0002_register_sweep"),
        ("scheduling", "0004_provider_staff_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
