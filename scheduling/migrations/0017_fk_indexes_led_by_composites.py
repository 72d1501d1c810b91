# Each foreign key's own index goes: an index of the same table leads with its column.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from booking_site.migration_operations import drop_foreign_key_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0016_provider_availability_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_foreign_key_indexes(
            altered_fields=[
                migrations.AlterField(
                    model_name="blockedtime",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="blocked_times",
                        to="scheduling.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="booking",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        to="scheduling.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="booking",
                    name="service",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        to="scheduling.service",
                    ),
                ),
                migrations.AlterField(
                    model_name="idempotencyrecord",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            indexes=[
                ("scheduling_blockedtime_provider_id_22d346b5", "scheduling_blockedtime", "provider_id"),
                ("scheduling_booking_provider_id_645cbd0c", "scheduling_booking", "provider_id"),
                ("scheduling_booking_service_id_951475cc", "scheduling_booking", "service_id"),
                ("scheduling_idempotencyrecord_user_id_584f75f7", "scheduling_idempotencyrecord", "user_id"),
            ],
        ),
    ]
