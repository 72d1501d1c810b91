"""Register the reminder dispatch and the outbox sweep with django-celery-beat (every minute).

`expire_seconds`: a tick that waited in the broker for more than a minute (workers down) is dropped;
the next tick does the same work, so an outage does not leave a pile of identical tasks behind.
"""

from django.db import migrations

TASKS = [
    (
        "Dispatch due reminders",
        "notifications.tasks.dispatch_due_reminders",
        "Sends every reminder that is due and whose appointment has not started; marks late ones skipped.",
    ),
    (
        "Sweep the notification outbox",
        "notifications.tasks.sweep_outbox",
        "Sends outbox notifications that are due: retries, and any whose on-commit kick was lost.",
    ),
]


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for name, task, description in TASKS:
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every_minute,
                "enabled": True,
                "expire_seconds": 60,
                "description": description,
            },
        )


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
