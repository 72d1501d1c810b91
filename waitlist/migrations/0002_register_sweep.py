"""Register the waitlist sweep with django-celery-beat's DatabaseScheduler (every minute)."""

from django.db import migrations

from booking_site.migration_operations import register_every_minute, unregister

TASK_NAME = "Waitlist: close passed windows and make missed offers"
TASK_PATH = "waitlist.tasks.sweep"
DESCRIPTION = "Offers every free time a lost task or a stopped worker missed, and closes passed windows."


def register(apps, schema_editor):
    register_every_minute(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("waitlist", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
