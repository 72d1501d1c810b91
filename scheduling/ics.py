"""A booking as an iCalendar (RFC 5545) file, built with the `icalendar` library.

Instants are written in UTC (`DTSTART:20270315T130000Z`): every calendar shows them in its own zone,
and no VTIMEZONE has to be shipped. The description carries the manage link (given by the caller, who
holds the token) so the customer can change the booking from their calendar: the file is only served
behind that same link or to the confirmation page that shows it.
Its texts are in the active language: the customer's (Booking.language) when an email carries it, the
visitor's on the pages.
"""

from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

from scheduling.formatting import local_time, service_with_provider
from scheduling.models import Booking, BookingStatus

_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
}


def calendar_uid_host() -> str:
    """The host part of every booking's calendar UID: SITE_URL's host (not the host a request came in
    on, nor ALLOWED_HOSTS, which differ between the pages, the API and the workers)."""
    return urlsplit(settings.SITE_URL).hostname or "booking"


def booking_uid(booking: Booking) -> str:
    """The booking's calendar UID everywhere (its download, its emails, the provider's feed, the event
    exported to the provider's calendars), so a calendar that meets it twice keeps one event, and import
    recognises the events we exported (calendars.export_hooks.exported_uids)."""
    return f"{booking.reference}@{calendar_uid_host()}"


def booking_calendar(booking: Booking, *, manage_url: str = "") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Booking platform//Customer pages//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    booked = service_with_provider(booking.service.name, booking.provider.name)
    names = {"booked": booked, "reference": booking.reference, "provider": booking.provider.name}
    event.add("summary", gettext("%(booked)s – booking %(reference)s") % names)
    event.add(
        "description",
        "\n".join(
            [
                gettext("Booking reference: %(reference)s") % names,
                gettext("Service: %(service)s, with %(provider)s") % {**names, "service": booking.service.name},
                gettext("%(provider)s's time: %(when)s")
                % {**names, "when": local_time(booking.start_at, booking.provider_timezone)},
                gettext("Status: %(status)s") % {"status": booking.get_status_display()},
                *([gettext("See, move or cancel your booking: %(url)s") % {"url": manage_url}] if manage_url else []),
            ]
        ),
    )
    event.add("status", _STATUS.get(booking.status, "CONFIRMED"))
    event.add("sequence", 1 if booking.status == BookingStatus.CANCELLED else 0)
    calendar.add_component(event)
    return calendar.to_ical()


def ics_response(body: bytes, booking: Booking) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{booking.reference}.ics"'
    return response
