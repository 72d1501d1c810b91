"""Services that shape a provider's calendar: the provider itself, its rules and blocked times.

Each validates through the model's own `clean()` so a form, the admin and the API all get the same
messages for a bad RRULE, an unknown zone or an end before a start.
"""

from datetime import date, datetime, time
from typing import Any

from django.db import transaction

from calendars.feed_services import provider_feed_get_or_create
from scheduling import selectors
from scheduling.models import AvailabilityRule, BlockedTime, Provider
from scheduling.services import catalogue
from scheduling.services.inputs import full_clean_or_invalid, require_aware, require_zone
from scheduling.validators import normalise_rrule
from waitlist import hooks as waitlist

PROVIDER_FIELDS = {"kind", "name", "slug", "timezone", "is_active"}
RULE_FIELDS = {"kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"}


def _assign(instance: Any, allowed: set[str], values: dict[str, Any]) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "timezone":
            value = require_zone(value, field="timezone")
        setattr(instance, name, value)


def provider_create(*, staff: list | None = None, own_service: dict[str, Any] | None = None, **fields: Any) -> Provider:
    """Create a provider after validating every field (zone, slug).

    With `own_service` (service settings, possibly empty), the provider also gets a service of its
    own made from them, in the same transaction: what API v1's provider fields ask for.
    """
    provider = Provider()
    _assign(provider, PROVIDER_FIELDS, fields)
    full_clean_or_invalid(provider)
    with transaction.atomic():
        provider.save()
        if staff:
            provider.staff.set(staff)
        if own_service is not None:
            catalogue.provider_own_service_create(provider=provider, **own_service)
        provider_feed_get_or_create(provider=provider)  # its calendar subscription URL, from the start
    return provider


def provider_update(*, provider: Provider, own_service: dict[str, Any] | None = None, **fields: Any) -> Provider:
    """Change a provider. With `own_service`, change the service its deprecated API v1 fields stand
    for (`selectors.provider_default_service`; made when it has none). Existing bookings keep their
    snapshots (span, price, terms)."""
    old_name = provider.name
    _assign(provider, PROVIDER_FIELDS, fields)
    full_clean_or_invalid(provider)
    with transaction.atomic():
        provider.save()
        if provider.name != old_name:
            catalogue.provider_own_services_rename(provider=provider, old_name=old_name)
        if own_service:
            service = selectors.provider_default_service(provider=provider)
            if service is None:
                catalogue.provider_own_service_create(provider=provider, **own_service)
            else:
                catalogue.provider_own_service_update(service=service, **own_service)
    return provider


def availability_rule_create(
    *,
    provider: Provider,
    rrule: str,
    starts_on: date,
    start_time: time,
    end_time: time,
    kind: str = AvailabilityRule.Kind.OPEN,
    ends_on: date | None = None,
    label: str = "",
) -> AvailabilityRule:
    """Add a rule; a bad RRULE is an InvalidInput naming `rrule`."""
    rule = AvailabilityRule(
        provider=provider,
        kind=kind,
        rrule=normalise_rrule(rrule),
        starts_on=starts_on,
        ends_on=ends_on,
        start_time=start_time,
        end_time=end_time,
        label=label,
    )
    full_clean_or_invalid(rule)
    rule.save()
    waitlist.slot_may_have_freed(provider_id=rule.provider_id)
    return rule


def availability_rule_update(*, rule: AvailabilityRule, **fields: Any) -> AvailabilityRule:
    _assign(rule, RULE_FIELDS, fields)
    if "rrule" in fields:
        rule.rrule = normalise_rrule(rule.rrule)
    full_clean_or_invalid(rule)
    rule.save()
    waitlist.slot_may_have_freed(provider_id=rule.provider_id)
    return rule


def blocked_time_create(
    *,
    provider: Provider,
    start_at: datetime,
    end_at: datetime,
    reason: str = BlockedTime.Reason.PERSONAL,
    note: str = "",
) -> BlockedTime:
    """Block a span. Existing bookings inside it are left alone (docs/architecture.md §1)."""
    blocked = BlockedTime(
        provider=provider,
        start_at=require_aware(start_at, field="start_at"),
        end_at=require_aware(end_at, field="end_at"),
        reason=reason,
        note=note,
    )
    full_clean_or_invalid(blocked)
    blocked.save()
    return blocked


def provider_delete(*, provider: Provider) -> bool:
    """Delete a provider, or deactivate it when it has bookings (their history must stay). A deleted
    provider's own services (those only it offered) go with it.

    Locks the provider row. Returns True when the provider was deleted, False when it was deactivated.
    """
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)  # bookings take this lock too
        if not locked.bookings.exists():
            catalogue.provider_own_services_retire(provider=locked)
        return catalogue.delete_or_deactivate(provider)


def availability_rule_delete(*, rule: AvailabilityRule) -> None:
    """Remove a rule. Existing bookings stay; only future availability changes (a closed rule removed
    frees time for the waitlist)."""
    provider_id = rule.provider_id
    rule.delete()
    waitlist.slot_may_have_freed(provider_id=provider_id)


def blocked_time_delete(*, blocked_time: BlockedTime) -> None:
    provider_id = blocked_time.provider_id
    blocked_time.delete()
    waitlist.slot_may_have_freed(provider_id=provider_id)
