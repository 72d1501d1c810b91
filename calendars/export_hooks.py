"""Bookings written to the provider's two-way calendars (CalDAV, Google, Microsoft): called by
scheduling.booking_events inside the booking's transaction.

Not built yet: the export outbox comes with the CalDAV adapter (docs/decisions/0015-calendar-sync.md).
"""

from scheduling.models import Booking


def booking_changed(*, booking: Booking, event: str, previous: Booking | None = None) -> None:
    """Queue the booking's export to each of its provider's two-way calendars."""
