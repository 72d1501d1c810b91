"""The booking settings now live on services only (0009 copied them): drop them from the provider,
and every booking names its service."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_one_service_per_provider"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_slot_minutes_positive',
        ),
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_slot_step_positive',
        ),
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_hold_minutes_positive',
        ),
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_fee_not_negative',
        ),
        migrations.RemoveConstraint(
            model_name='provider',
            name='provider_price_not_negative',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='buffer_after_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='buffer_before_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='currency',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='free_cancel_hours',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='hold_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='late_cancel_fee',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='max_advance_days',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='min_notice_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='price',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='reminder_lead_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='requires_confirmation',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='slot_minutes',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='slot_step_minutes',
        ),
        migrations.AlterField(
            model_name='booking',
            name='service',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='scheduling.service'),
        ),
        migrations.AddIndex(
            model_name='booking',
            index=models.Index(fields=['service', 'start_at'], name='scheduling__service_c21d31_idx'),
        ),
    ]
