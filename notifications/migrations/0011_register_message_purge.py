"""Register the daily purge of old messages and webhook events with django-celery-beat."""

from django.db import migrations

from booking_site.migration_operations import register_daily, unregister

TASK_NAME = "Purge old messages"
TASK_PATH = "notifications.tasks.purge_messages"
DESCRIPTION = (
    "Deletes sent, failed and cancelled notifications, reminders, waitlist messages and calendar exports, and "
    "webhook events with their deliveries, MESSAGE_RETENTION_DAYS after their last change and their booking's "
    "(or entry's) end."
)


def register(apps, schema_editor):
    register_daily(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_fk_indexes_led_by_composites"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
