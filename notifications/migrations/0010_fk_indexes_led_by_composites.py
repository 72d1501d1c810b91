# Each foreign key's own index goes: an index of the same table leads with its column.

import django.db.models.deletion
from django.db import migrations, models

from booking_site.migration_operations import drop_foreign_key_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0009_webhook_staff_permissions"),
        ("scheduling", "0017_fk_indexes_led_by_composites"),
    ]

    operations = [
        drop_foreign_key_indexes(
            altered_fields=[
                migrations.AlterField(
                    model_name="reminder",
                    name="booking",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="scheduling.booking",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="endpoint",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="notifications.webhookendpoint",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhookevent",
                    name="booking",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="scheduling.booking",
                    ),
                ),
            ],
            indexes=[
                ("notifications_reminder_booking_id_ce37cc95", "notifications_reminder", "booking_id"),
                ("notifications_webhookdelivery_endpoint_id_92faf2d0", "notifications_webhookdelivery", "endpoint_id"),
                ("notifications_webhookevent_booking_id_ae549a0d", "notifications_webhookevent", "booking_id"),
            ],
        ),
    ]
