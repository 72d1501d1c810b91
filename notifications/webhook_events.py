"""Integrator webhook events for booking changes: called by scheduling.booking_events inside the
booking's transaction.

Not built yet: the webhook outbox comes with WebhookEndpoint (notifications app).
"""

from scheduling.models import Booking


def booking_event(*, booking: Booking, event: str, previous: Booking | None = None) -> None:
    """Queue one delivery of the event to each endpoint that wants it."""
