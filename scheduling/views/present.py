"""Plain strings for templates: times in two zones, cancellation terms, why a time cannot be booked.

Every date and time a page shows goes through `when` / `clock` / `day_text` here, so that the switch
to a project-wide locale-aware formatter (scheduling/formatting.py) is one place.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scheduling import selectors
from scheduling.availability import Verdict
from scheduling.formatting import as_zone, duration, uses_12_hour_clock
from scheduling.models import Booking, BookingStatus, CancelReason, Provider, Service
from scheduling.views.offer import what_booked


def _date_pattern(*, long: bool, year: bool) -> str:
    """Django date-format patterns (names come translated): a full date pads the day ("Mon 07 Dec
    2026"), a week's day heading does not ("Sat 5 Dec")."""
    german = (translation.get_language() or "").lower().startswith("de")
    weekday, month = ("l", "F") if long else ("D", "M")
    day = "d" if year else "j"
    pattern = f"{weekday}, {day}. {month}" if german else f"{weekday} {day} {month}"
    return f"{pattern} Y" if year else pattern


def clock(local: datetime) -> str:
    """ "9:30 AM" on a 12-hour clock (en-us pages), "09:30" on a 24-hour one (`formatting.locale_style`)."""
    if uses_12_hour_clock():
        return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    return f"{local:%H:%M}"


def day_text(day: date, *, long: bool = False, year: bool = True) -> str:
    """A date in the page language: "Mon 15 Mar 2027" / "Mo, 15. Mär 2027" (long: weekday and month in full)."""
    return dateformat.format(day, _date_pattern(long=long, year=year))


def when(value: datetime, tz: ZoneInfo | str, *, with_date: bool = True, with_zone: bool = True) -> str:
    """e.g. "Mon 15 Mar 2027, 9:00 AM EDT (America/New_York)" or "Mo, 15. Mär 2027, 09:00 EDT (...)"."""
    zone = as_zone(tz)
    local = value.astimezone(zone)
    text = f"{clock(local)} {local:%Z}"
    if with_date:
        text = f"{day_text(local.date())}, {text}"
    return f"{text} ({zone.key})" if with_zone else text


def span(start: datetime, end: datetime, tz: ZoneInfo) -> dict:
    """{"start": "Mon 15 Mar 2027, 22:00 JST (Asia/Tokyo)", "until": "22:30 JST"} (the end's date when it differs)."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    same_day = local_end.date() == local_start.date()
    until = when(end, tz, with_date=not same_day, with_zone=False)
    return {"start": when(start, tz), "until": until}


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def minutes_text(minutes: int) -> str:
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def service_facts(service: Service) -> dict:
    """A service's length and price as the pages show them: "30 minutes", "100.00 USD" (None when free)."""
    return {
        "service": service,
        "duration": minutes_text(service.duration_minutes),
        "price": money(service.price, service.currency) if service.price > 0 else None,
    }


def terms(*, free_until: datetime, late_fee: Decimal, currency: str, tz: ZoneInfo, now: datetime) -> dict:
    """The cancellation terms as sentences, with the deadline in the viewer's zone.

    As `booking_cancel` charges them (selectors.booking_cancellation_fee): free until the deadline,
    the late fee after it, and never a fee when the fee is zero. A deadline already past at `now`
    (a slot closer than the free-cancel window) is not offered as a promise.
    """
    if late_fee <= 0:
        return {"summary": _("Cancelling is free at any time."), "free_until": None, "late_fee": None}
    fee = money(late_fee, currency)
    deadline = when(free_until, tz)
    if now > free_until:
        return {
            "summary": _(
                "Cancelling this booking will cost the late-cancellation fee of %(fee)s: "
                "the free-cancellation deadline (%(deadline)s) has already passed."
            )
            % {"fee": fee, "deadline": deadline},
            "free_until": None,
            "late_fee": fee,
        }
    return {
        "summary": _("Cancel free of charge until %(deadline)s. After that, cancelling costs a late fee of %(fee)s.")
        % {"fee": fee, "deadline": deadline},
        "free_until": deadline,
        "late_fee": fee,
    }


def slot_terms(*, service: Service, start: datetime, tz: ZoneInfo, rescheduling: Booking | None = None) -> dict:
    quote = selectors.cancellation_terms_for(service=service, start=start, rescheduling=rescheduling)
    currency = rescheduling.currency if rescheduling else service.currency
    return terms(free_until=quote.free_until, late_fee=quote.late_fee, currency=currency, tz=tz, now=timezone.now())


def status_text(status: str) -> str:
    return {
        BookingStatus.PENDING: _("Requested – awaiting confirmation"),
        BookingStatus.CONFIRMED: _("Confirmed"),
        BookingStatus.COMPLETED: _("Completed"),
        BookingStatus.CANCELLED: _("Cancelled"),
        BookingStatus.NO_SHOW: _("Missed (no-show)"),
    }.get(status, status)


def booking_summary(booking: Booking, *, viewer_tz: ZoneInfo, now: datetime) -> dict:
    provider_tz = ZoneInfo(str(booking.provider_timezone))
    rescheduled_to = getattr(booking, "rescheduled_to", None) if booking.cancel_reason else None
    return {
        "booking": booking,
        "what": what_booked(booking.service, booking.provider),
        "status_text": status_text(booking.status),
        "is_pending": booking.status == BookingStatus.PENDING,
        "is_cancelled": booking.status == BookingStatus.CANCELLED,
        "was_rescheduled": booking.cancel_reason == CancelReason.RESCHEDULED,
        "rescheduled_to": span(rescheduled_to.start_at, rescheduled_to.end_at, viewer_tz) if rescheduled_to else None,
        "rescheduled_to_reference": rescheduled_to.reference if rescheduled_to else None,
        "hold_until": when(booking.hold_expires_at, viewer_tz) if booking.hold_expires_at else None,
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
        "cancelled_at": when(booking.cancelled_at, viewer_tz) if booking.cancelled_at else None,
        "cancellation_fee": money(booking.cancellation_fee, booking.currency) if booking.cancellation_fee else None,
        "refund": money(booking.refund_amount, booking.currency) if booking.refund_amount else None,
        "has_started": now >= booking.start_at,
        "can_change": booking.is_live and now < booking.start_at,
    }


def why_not(verdict: Verdict | None, *, service: Service, provider: Provider | None) -> str:
    """A customer-facing reason a time cannot be booked (None: the link named no valid time).

    Named after the provider when one is chosen, else after the service ("any available")."""
    if verdict is None:
        return _("That link doesn't name a valid time. Please pick a time from the calendar.")
    who = provider.name if provider else service.name
    if verdict is Verdict.IN_PAST:
        return _("That time has already passed.")
    if verdict is Verdict.TOO_SOON:
        return _("That time is too soon: %(who)s needs at least %(notice)s notice.") % {
            "who": who,
            "notice": duration(service.min_notice_minutes),
        }
    if verdict is Verdict.BEYOND_HORIZON:
        return _("That time is too far ahead: %(who)s takes bookings up to %(days)d days ahead.") % {
            "who": who,
            "days": service.max_advance_days,
        }
    if verdict is Verdict.NOT_OFFERED:
        if provider:
            return _("%(provider)s has no appointment starting at that time.") % {"provider": provider.name}
        return _("No %(service)s starts at that time.") % {"service": service.name}
    if verdict is Verdict.BUSY:
        return _("Sorry – that time has just been booked by someone else.")
    return _("That time cannot be booked.")
