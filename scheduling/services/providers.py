"""Services that shape a provider's calendar: the provider itself, its rules and blocked times.

Each validates through the model's own `clean()` so a form, the admin and the API all get the same
messages for a bad RRULE, an unknown zone or an end before a start.
"""

from datetime import date, datetime, time
from typing import Any

from django.db import transaction

from scheduling.models import AvailabilityRule, BlockedTime, Provider
from scheduling.services.inputs import full_clean_or_invalid, require_aware, require_zone
from scheduling.validators import normalise_rrule

PROVIDER_FIELDS = {
    "kind", "name", "slug", "timezone", "slot_minutes", "slot_step_minutes", "buffer_before_minutes",
    "buffer_after_minutes", "min_notice_minutes", "max_advance_days", "requires_confirmation", "hold_minutes",
    "reminder_lead_minutes", "free_cancel_hours", "late_cancel_fee", "price", "currency", "is_active",
}  # fmt: skip
RULE_FIELDS = {"kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"}


def _assign(instance: Any, allowed: set[str], values: dict[str, Any]) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "timezone":
            value = require_zone(value, field="timezone")
        setattr(instance, name, value)


def provider_create(*, staff: list | None = None, **fields: Any) -> Provider:
    """Create a provider after validating every field (zone, currency, fee, slot lengths)."""
    provider = Provider()
    _assign(provider, PROVIDER_FIELDS, fields)
    full_clean_or_invalid(provider)
    with transaction.atomic():
        provider.save()
        if staff:
            provider.staff.set(staff)
    return provider


def provider_update(*, provider: Provider, **fields: Any) -> Provider:
    """Change a provider's settings. Existing bookings keep their snapshots (buffers, policy)."""
    _assign(provider, PROVIDER_FIELDS, fields)
    full_clean_or_invalid(provider)
    provider.save()
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
    return rule


def availability_rule_update(*, rule: AvailabilityRule, **fields: Any) -> AvailabilityRule:
    _assign(rule, RULE_FIELDS, fields)
    if "rrule" in fields:
        rule.rrule = normalise_rrule(rule.rrule)
    full_clean_or_invalid(rule)
    rule.save()
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
    """Delete a provider, or deactivate it when it has bookings (their history must stay).

    Returns True when the provider was deleted, False when it was deactivated.
    """
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        if locked.bookings.exists():
            if locked.is_active:
                locked.is_active = False
                locked.save(update_fields=["is_active", "updated_at"])
            provider.is_active = False
            return False
        locked.delete()
        return True


def availability_rule_delete(*, rule: AvailabilityRule) -> None:
    """Remove a rule. Existing bookings stay; only future availability changes."""
    rule.delete()


def blocked_time_delete(*, blocked_time: BlockedTime) -> None:
    blocked_time.delete()
