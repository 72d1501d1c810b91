"""A booking's lifecycle, told to the apps that follow it from outside scheduling: the provider's
calendars (calendars.export_hooks: the booking written to a CalDAV, Google or Microsoft calendar) and
integrators' webhooks (notifications.webhook_events).

`booking_changed` is called by the booking services inside the transaction of the change, after it is
saved, so what the followers write (outbox rows) commits or rolls back with the change itself. Like
payments.ledger and waitlist.hooks, the followers import scheduling models, never scheduling services.
"""

from enum import StrEnum

from scheduling.models import Booking, CancelReason


class BookingEvent(StrEnum):
    CREATED = "created"  # made, pending or confirmed at once (its status says which)
    CONFIRMED = "confirmed"  # a pending booking confirmed later (by staff, a payment or a waitlist accept)
    CANCELLED = "cancelled"  # by the customer or the provider (a waitlist offer declined, too)
    EXPIRED = "expired"  # a hold that ran out, or whose payment failed
    RESCHEDULED = "rescheduled"  # `previous` moved to `booking`, in one event (never cancelled + created)
    COMPLETED = "completed"
    NO_SHOW = "no_show"


def cancellation_event(reason: str) -> BookingEvent:
    if reason in (CancelReason.EXPIRED, CancelReason.PAYMENT_FAILED):
        return BookingEvent.EXPIRED
    return BookingEvent.CANCELLED


WEBHOOKS, CALENDARS = "webhooks", "calendars"
FOLLOWERS = (WEBHOOKS, CALENDARS)


def presence_sql(provider: str) -> dict[str, str]:
    """Follower name -> SQL saying whether it may act on a change of the provider's bookings (the
    column expression `provider`). The booking's lock read selects these in its own statement
    (scheduling.selectors.provider_for_booking), which spares a booking the followers' own lookups
    when nobody follows its provider: the usual case, and one query each otherwise."""
    from calendars import export_hooks
    from notifications import webhook_events

    return {
        WEBHOOKS: webhook_events.hears_provider_sql(provider),
        CALENDARS: export_hooks.follows_provider_sql(provider),
    }


def booking_changed(
    *,
    booking: Booking,
    event: BookingEvent,
    previous: Booking | None = None,
    followers: frozenset[str] | None = None,
) -> None:
    """Tell the followers. `followers`: those the provider's lock read found present (`presence_sql`),
    read in this transaction; None asks every follower."""
    from calendars import export_hooks
    from notifications import webhook_events

    if followers is None or WEBHOOKS in followers:
        webhook_events.booking_event(booking=booking, event=event, previous=previous)
    if followers is None or CALENDARS in followers:
        export_hooks.booking_changed(booking=booking, event=event, previous=previous)
