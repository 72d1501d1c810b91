"""Every existing provider gets one service with its current booking settings, and its bookings
point at it. The bookings' own snapshots (times, buffered span, price, cancellation terms) are not
touched: they already hold what was agreed."""

from django.db import migrations

# Provider field -> service field; the length was called slot_minutes on the provider.
SETTINGS = {
    "slot_minutes": "duration_minutes",
    "slot_step_minutes": "slot_step_minutes",
    "buffer_before_minutes": "buffer_before_minutes",
    "buffer_after_minutes": "buffer_after_minutes",
    "min_notice_minutes": "min_notice_minutes",
    "max_advance_days": "max_advance_days",
    "requires_confirmation": "requires_confirmation",
    "hold_minutes": "hold_minutes",
    "reminder_lead_minutes": "reminder_lead_minutes",
    "free_cancel_hours": "free_cancel_hours",
    "late_cancel_fee": "late_cancel_fee",
    "price": "price",
    "currency": "currency",
}


def one_service_per_provider(apps, schema_editor):
    Provider = apps.get_model("scheduling", "Provider")
    Service = apps.get_model("scheduling", "Service")
    Booking = apps.get_model("scheduling", "Booking")
    for provider in Provider.objects.order_by("pk").iterator():
        # Provider slugs are unique and the service table starts empty, so the slug is free.
        service = Service.objects.create(
            name=provider.name,
            slug=provider.slug,
            is_active=True,
            **{service_field: getattr(provider, field) for field, service_field in SETTINGS.items()},
        )
        service.providers.add(provider)
        Booking.objects.filter(provider=provider).update(service=service)


def settings_back_to_providers(apps, schema_editor):
    """Reverse: each provider takes the settings of the first service it offers."""
    Provider = apps.get_model("scheduling", "Provider")
    Booking = apps.get_model("scheduling", "Booking")
    for provider in Provider.objects.order_by("pk").iterator():
        service = provider.services.order_by("pk").first()
        if service is not None:
            for field, service_field in SETTINGS.items():
                setattr(provider, field, getattr(service, service_field))
            provider.save(update_fields=list(SETTINGS))
    Booking.objects.update(service=None)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_service"),
    ]

    operations = [
        migrations.RunPython(one_service_per_provider, settings_back_to_providers),
    ]
