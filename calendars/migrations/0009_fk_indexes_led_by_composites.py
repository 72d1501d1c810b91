# Each foreign key's own index goes: an index of the same table leads with its column.

import django.db.models.deletion
from django.db import migrations, models

from booking_site.migration_operations import drop_foreign_key_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0008_sync_window_and_version"),
    ]

    operations = [
        drop_foreign_key_indexes(
            altered_fields=[
                migrations.AlterField(
                    model_name="importedevent",
                    name="connection",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="imported_events",
                        to="calendars.calendarconnection",
                    ),
                ),
            ],
            indexes=[
                ("calendars_importedevent_connection_id_31fdbb18", "calendars_importedevent", "connection_id"),
            ],
        ),
    ]
