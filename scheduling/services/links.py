"""Manage links after the booking: sending them again on request, and revoking old ones
(docs/decisions/0010-manage-links.md)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications import services as notifications
from scheduling import manage_links, selectors
from scheduling.errors import InvalidInput
from scheduling.models import Booking


def manage_links_send(*, email: str) -> None:
    """Queue one email listing the manage links of this address's upcoming live bookings.

    Returns nothing, whether or not the address is known: the caller's answer must not tell. The
    outbox row is written here and sent by a worker (no kick: see notifications.services), so the
    request's timing differs only by the rows read and one INSERT (ADR 0010).
    """
    with transaction.atomic():
        bookings = selectors.upcoming_live_bookings_for_email(email=email, now=timezone.now())
        notifications.manage_links_requested(bookings=bookings)


def booking_manage_links_revoke(*, booking_id: int) -> str:
    """Make every manage link of this booking made so far stop working; return a new token.

    Bumps `manage_secret_version` (signed links) and clears `manage_token_hash` (a link from before
    signed links) in one UPDATE, which locks the row for the rest of its statement only.
    """
    with transaction.atomic():
        updated = Booking.objects.filter(pk=booking_id).update(
            manage_secret_version=F("manage_secret_version") + 1, manage_token_hash="", updated_at=timezone.now()
        )
        if not updated:
            raise InvalidInput("No such booking.", field="booking")
        booking = Booking.objects.only("pk", "manage_secret_version").get(pk=booking_id)
        return manage_links.token_for(booking)
