"""Register the gateway-call sweep with django-celery-beat's DatabaseScheduler (every minute)."""

from django.db import migrations

from booking_site.migration_operations import register_every_minute, unregister

TASK_NAME = "Make owed payment gateway calls"
TASK_PATH = "payments.tasks.run_gateway_calls"
DESCRIPTION = "Refunds and charge cancellations owed after bookings changed, retried until done."


def register(apps, schema_editor):
    register_every_minute(apps, name=TASK_NAME, task=TASK_PATH, description=DESCRIPTION)


def unregister_task(apps, schema_editor):
    unregister(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister_task)]
