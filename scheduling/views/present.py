"""Plain strings for templates: times in two zones, cancellation terms, why a time cannot be booked."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from scheduling import selectors
from scheduling.availability import Verdict
from scheduling.formatting import duration, local_time
from scheduling.models import Booking, BookingStatus, CancelReason, Provider, Service
from scheduling.views.offer import what_booked


def span(start: datetime, end: datetime, tz: ZoneInfo) -> dict:
    """{"start": "Mon 15 Mar 2027, 22:00 JST (Asia/Tokyo)", "until": "22:30 JST"} (the end's date when it differs)."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    until = f"{local_end:%H:%M %Z}" if local_end.date() == local_start.date() else f"{local_end:%a %d %b, %H:%M %Z}"
    return {"start": local_time(start, tz), "until": until}


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def service_facts(service: Service) -> dict:
    """A service's length and price as the pages show them: "30 minutes", "100.00 USD" (None when free)."""
    return {
        "service": service,
        "duration": f"{service.duration_minutes} minutes",
        "price": money(service.price, service.currency) if service.price > 0 else None,
    }


def terms(*, free_until: datetime, late_fee: Decimal, currency: str, tz: ZoneInfo, now: datetime) -> dict:
    """The cancellation terms as sentences, with the deadline in the viewer's zone.

    As `booking_cancel` charges them (selectors.booking_cancellation_fee): free until the deadline,
    the late fee after it, and never a fee when the fee is zero. A deadline already past at `now`
    (a slot closer than the free-cancel window) is not offered as a promise.
    """
    if late_fee <= 0:
        return {"summary": "Cancelling is free at any time.", "free_until": None, "late_fee": None}
    if now > free_until:
        return {
            "summary": f"Cancelling this booking will cost the late-cancellation fee of {money(late_fee, currency)}: "
            f"the free-cancellation deadline ({local_time(free_until, tz)}) has already passed.",
            "free_until": None,
            "late_fee": money(late_fee, currency),
        }
    return {
        "summary": f"Cancel free of charge until {local_time(free_until, tz)}. "
        f"After that, cancelling costs a late fee of {money(late_fee, currency)}.",
        "free_until": local_time(free_until, tz),
        "late_fee": money(late_fee, currency),
    }


def slot_terms(*, service: Service, start: datetime, tz: ZoneInfo, rescheduling: Booking | None = None) -> dict:
    quote = selectors.cancellation_terms_for(service=service, start=start, rescheduling=rescheduling)
    currency = rescheduling.currency if rescheduling else service.currency
    return terms(free_until=quote.free_until, late_fee=quote.late_fee, currency=currency, tz=tz, now=timezone.now())


STATUS_TEXT = {
    BookingStatus.PENDING: "Requested – awaiting confirmation",
    BookingStatus.CONFIRMED: "Confirmed",
    BookingStatus.COMPLETED: "Completed",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.NO_SHOW: "Missed (no-show)",
}


def booking_summary(booking: Booking, *, viewer_tz: ZoneInfo, now: datetime) -> dict:
    provider_tz = ZoneInfo(str(booking.provider_timezone))
    rescheduled_to = getattr(booking, "rescheduled_to", None) if booking.cancel_reason else None
    return {
        "booking": booking,
        "what": what_booked(booking.service, booking.provider),
        "status_text": STATUS_TEXT.get(booking.status, booking.get_status_display()),
        "is_pending": booking.status == BookingStatus.PENDING,
        "is_cancelled": booking.status == BookingStatus.CANCELLED,
        "was_rescheduled": booking.cancel_reason == CancelReason.RESCHEDULED,
        "rescheduled_to": span(rescheduled_to.start_at, rescheduled_to.end_at, viewer_tz) if rescheduled_to else None,
        "rescheduled_to_reference": rescheduled_to.reference if rescheduled_to else None,
        "hold_until": local_time(booking.hold_expires_at, viewer_tz) if booking.hold_expires_at else None,
        "viewer_time": span(booking.start_at, booking.end_at, viewer_tz),
        "provider_time": span(booking.start_at, booking.end_at, provider_tz),
        "same_zone": viewer_tz.key == provider_tz.key,
        "viewer_tz": viewer_tz,
        "provider_tz": provider_tz,
        "price": money(booking.price, booking.currency) if booking.price > 0 else None,
        "terms": terms(
            free_until=booking.free_cancel_until,
            late_fee=min(booking.late_cancel_fee, booking.price),
            currency=booking.currency,
            tz=viewer_tz,
            now=now,
        ),
        "cancelled_at": local_time(booking.cancelled_at, viewer_tz) if booking.cancelled_at else None,
        "cancellation_fee": money(booking.cancellation_fee, booking.currency) if booking.cancellation_fee else None,
        "refund": money(booking.refund_amount, booking.currency) if booking.refund_amount else None,
        "has_started": now >= booking.start_at,
        "can_change": booking.is_live and now < booking.start_at,
    }


def why_not(verdict: Verdict | None, *, service: Service, provider: Provider | None) -> str:
    """A customer-facing reason a time cannot be booked (None: the link named no valid time).

    Named after the provider when one is chosen, else after the service ("any available")."""
    if verdict is None:
        return "That link doesn't name a valid time. Please pick a time from the calendar."
    who = provider.name if provider else service.name
    not_offered = (
        f"{provider.name} has no appointment starting at that time."
        if provider
        else f"No {service.name} starts at that time."
    )
    return {
        Verdict.IN_PAST: "That time has already passed.",
        Verdict.TOO_SOON: f"That time is too soon: {who} needs at least {duration(service.min_notice_minutes)} notice.",
        Verdict.BEYOND_HORIZON: f"That time is too far ahead: {who} takes bookings up to "
        f"{service.max_advance_days} days ahead.",
        Verdict.NOT_OFFERED: not_offered,
        Verdict.BUSY: "Sorry – that time has just been booked by someone else.",
    }.get(verdict, "That time cannot be booked.")
