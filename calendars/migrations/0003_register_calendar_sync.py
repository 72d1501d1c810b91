"""Register the due-calendar sync with django-celery-beat's DatabaseScheduler (every minute); each
connection's own interval (sync_every_minutes) decides whether it is due."""

from django.db import migrations

from booking_site.migration_operations import register_every_minute, unregister

TASK_NAME = "Sync due external calendars"
TASK_PATH = "calendars.tasks.sync_due_calendars"
DESCRIPTION = "Imports busy times from providers' iCal URLs that are due for a sync."


def register(apps, schema_editor):
    register_every_minute(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0002_feeds_for_existing_providers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
