"""Register the due-calendar sync with django-celery-beat's DatabaseScheduler (every minute); each
connection's own interval (sync_every_minutes) decides whether it is due."""

from django.db import migrations

TASK_NAME = "Sync due external calendars"
TASK_PATH = "calendars.tasks.sync_due_calendars"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK_PATH,
            "interval": every_minute,
            "enabled": True,
            "description": "Imports busy times from providers' iCal URLs that are due for a sync.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0002_feeds_for_existing_providers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
