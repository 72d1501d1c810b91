# Each foreign key's own index goes: an index of the same table leads with its column.

import django.db.models.deletion
from django.db import migrations, models

from booking_site.migration_operations import drop_foreign_key_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_provider_staff_view_permissions"),
        ("scheduling", "0017_fk_indexes_led_by_composites"),
    ]

    operations = [
        drop_foreign_key_indexes(
            altered_fields=[
                migrations.AlterField(
                    model_name="gatewaycall",
                    name="payment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="gateway_calls",
                        to="payments.payment",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="booking",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="scheduling.booking",
                    ),
                ),
            ],
            indexes=[
                ("payments_gatewaycall_payment_id_2e7b2ba9", "payments_gatewaycall", "payment_id"),
                ("payments_payment_booking_id_2a46974b", "payments_payment", "booking_id"),
            ],
        ),
    ]
