"""Register the webhook delivery sweep with django-celery-beat's DatabaseScheduler (every minute)."""

from django.db import migrations

from booking_site.migration_operations import register_every_minute, unregister

TASK_NAME = "Send due webhook deliveries"
TASK_PATH = "notifications.tasks.sweep_webhooks"
DESCRIPTION = "Sends webhook deliveries whose kick was lost, whose retry is due, or whose claim ran out."


def register(apps, schema_editor):
    register_every_minute(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0007_webhooks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
