"""Services: what customers book, and which providers offer it (docs/decisions/0011-services.md).

Changing a service never changes bookings already made: each keeps the span, price and terms it
was made with.
"""

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from scheduling.errors import InvalidInput
from scheduling.formatting import is_own_service
from scheduling.models import Provider, Service
from scheduling.services.inputs import full_clean_or_invalid

SERVICE_SETTINGS = {
    "duration_minutes", "slot_step_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes",
    "max_advance_days", "requires_confirmation", "hold_minutes", "reminder_lead_minutes", "free_cancel_hours",
    "late_cancel_fee", "price", "currency", "payment_mode",
    "waitlist_offer_minutes",
}  # fmt: skip
SERVICE_FIELDS = {"name", "slug", "description", "is_active"} | SERVICE_SETTINGS


def _assign(service: Service, values: dict[str, Any]) -> None:
    unknown = set(values) - SERVICE_FIELDS
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(service, name, value)


def service_create(*, providers: list[Provider] | None = None, **fields: Any) -> Service:
    """Create a service after validating every field, offered by `providers`."""
    service = Service()
    _assign(service, fields)
    full_clean_or_invalid(service)
    with transaction.atomic():
        service.save()
        if providers:
            service.providers.set(providers)
    return service


def service_update(*, service: Service, providers: list[Provider] | None = None, **fields: Any) -> Service:
    """Change a service's settings and, when `providers` is given, who offers it."""
    _assign(service, fields)
    full_clean_or_invalid(service)
    with transaction.atomic():
        service.save()
        if providers is not None:
            service.providers.set(providers)
    return service


def service_delete(*, service: Service) -> bool:
    """Delete a service, or deactivate it when it has bookings (their history must stay).

    Locks the service row. Returns True when the service was deleted, False when it was deactivated.
    """
    return delete_or_deactivate(service)


def delete_or_deactivate(instance: Provider | Service) -> bool:
    """Delete a provider or service, or only deactivate it when bookings refer to it (their history
    must stay). Locks its row, so a booking made meanwhile cannot lose its provider or service.
    Returns True when it was deleted, False when it was deactivated."""
    with transaction.atomic():
        locked = type(instance).objects.select_for_update().get(pk=instance.pk)
        if locked.bookings.exists():
            if locked.is_active:
                locked.is_active = False
                locked.save(update_fields=["is_active", "updated_at"])
            instance.is_active = False
            return False
        locked.delete()
        return True


def provider_own_service_create(*, provider: Provider, **settings: Any) -> Service:
    """A service of the provider's own, named after it: what a provider made through API v1's
    provider fields offers (and what every provider made before services got)."""
    return service_create(
        providers=[provider], name=provider.name, slug=_free_slug(provider.slug or provider.name), **settings
    )


def provider_own_service_update(*, service: Service, **settings: Any) -> Service:
    """Change the service a provider's deprecated API v1 fields stand for. Refused when other
    providers offer it too: the change would reach their bookings' terms, so it belongs on the
    service itself."""
    if service.providers.count() > 1:
        field = sorted(settings)[0]
        raise InvalidInput(
            f"Other providers offer this provider's service too; change it at /api/v1/services/{service.pk}/.",
            field=field,
        )
    return service_update(service=service, **settings)


def provider_own_services_rename(*, provider: Provider, old_name: str) -> None:
    """After a provider is renamed, rename the services named after it that only it offers (its own
    service), so pages and messages keep naming it once and not as "Dr Old with Dr New"."""
    for service in provider.services.all():
        if is_own_service(service.name, old_name) and service.providers.count() == 1:
            service.name = provider.name
            service.save(update_fields=["name", "updated_at"])


def provider_own_services_retire(*, provider: Provider) -> None:
    """Before a provider is deleted: delete the services only it offers (deactivate those with
    bookings), so a service nobody offers is not left behind for any staff user to take."""
    for service in list(provider.services.all()):
        if service.providers.count() == 1:
            service.providers.remove(provider)
            delete_or_deactivate(service)


def _free_slug(base: str) -> str:
    base = slugify(base)[:70] or "service"
    taken = set(Service.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug
