"""Every provider made before calendar feeds gets its secret subscription URL."""

import secrets

from django.db import migrations


def create(apps, schema_editor):
    Provider = apps.get_model("scheduling", "Provider")
    ProviderFeed = apps.get_model("calendars", "ProviderFeed")
    have = set(ProviderFeed.objects.values_list("provider_id", flat=True))
    ProviderFeed.objects.bulk_create(
        ProviderFeed(provider_id=pk, secret=secrets.token_urlsafe(24))
        for pk in Provider.objects.values_list("pk", flat=True)
        if pk not in have
    )


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
