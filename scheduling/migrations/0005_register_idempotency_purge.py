"""Register the hourly purge of Idempotency-Key records older than 24 hours with Beat."""

from django.db import migrations

TASK_NAME = "Purge expired Idempotency-Key records"
TASK_PATH = "scheduling.tasks.purge_idempotency_records"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": TASK_PATH, "interval": every_hour, "enabled": True,
                  "description": "Deletes API idempotency records older than 24 hours."},
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_provider_staff_group"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
