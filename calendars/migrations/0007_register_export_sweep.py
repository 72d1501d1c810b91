"""Register the calendar export sweep with django-celery-beat's DatabaseScheduler (every minute): it
sends export rows the on-commit kick missed and retries whose backoff has passed."""

from django.db import migrations

from booking_site.migration_operations import register_every_minute, unregister

TASK_NAME = "Send calendar exports"
TASK_PATH = "calendars.tasks.sweep_exports"
DESCRIPTION = "Writes bookings to providers' two-way calendars (CalDAV, ...) and retries failed writes."


def register(apps, schema_editor):
    register_every_minute(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0006_calendar_export"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
