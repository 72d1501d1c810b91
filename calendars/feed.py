"""A provider's bookings as an iCal subscription feed (reads only; docs/decisions/0015-calendar-sync.md).

Live bookings from 30 days back to the provider's horizon, and bookings cancelled in the last 30 days
as STATUS:CANCELLED (so a subscribed calendar drops them). UIDs are the booking's own (the same as the
booking's `.ics` download and email attachment), SEQUENCE and LAST-MODIFIED follow `updated_at`, so a
calendar app updates an event in place. Instants are UTC.
"""

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from calendars.models import ProviderFeed
from calendars.selectors import provider_horizon_days
from scheduling.ics import booking_uid
from scheduling.models import Booking, BookingStatus

PAST = timedelta(days=30)
SHOWN = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
_STATUS = {BookingStatus.PENDING: "TENTATIVE", BookingStatus.CANCELLED: "CANCELLED"}


def feed_by_secret(secret: str) -> ProviderFeed | None:
    return ProviderFeed.objects.select_related("provider").filter(secret=secret).first()


def feed_url(feed: ProviderFeed) -> str:
    return settings.SITE_URL + reverse("calendars:feed", args=[feed.secret])


def feed_bookings(feed: ProviderFeed, *, now=None) -> QuerySet[Booking]:
    now = now or timezone.now()
    since, until = now - PAST, now + timedelta(days=provider_horizon_days(provider_id=feed.provider_id))
    shown = Q(status__in=SHOWN, end_at__gte=since, start_at__lte=until)
    cancelled = Q(status=BookingStatus.CANCELLED, cancelled_at__gte=since)
    return (
        Booking.objects.filter(provider=feed.provider)
        .filter(shown | cancelled)
        .select_related("service")
        .order_by("start_at", "pk")
    )


def feed_etag(feed: ProviderFeed, bookings: QuerySet[Booking]) -> str:
    """Changes whenever what the feed would say changes: a booking added, changed or aging out, the
    privacy setting, or the secret. One aggregate query."""
    seen = bookings.order_by().aggregate(n=Count("pk"), latest=Max("updated_at"), first=Max("pk"))
    key = f"{feed.secret}:{feed.hide_customer_details}:{seen['n']}:{seen['latest']}:{seen['first']}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def event_summary(booking: Booking, *, hide_customer_details: bool) -> str:
    """The title of a booking's event in the provider's calendars, the feed's and the exported one alike:
    the service, and the customer's name unless the provider hides customer details."""
    who = "" if hide_customer_details else f" – {booking.customer_name}"
    return f"{booking.service.name}{who}"


def feed_calendar(feed: ProviderFeed, bookings: QuerySet[Booking]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Booking platform//Provider feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{feed.provider.name} – bookings")
    stamp = timezone.now().astimezone(UTC)
    for booking in bookings:
        event = Event()
        event.add("uid", booking_uid(booking))
        event.add("dtstamp", stamp)
        event.add("dtstart", booking.start_at.astimezone(UTC))
        event.add("dtend", booking.end_at.astimezone(UTC))
        event.add("summary", event_summary(booking, hide_customer_details=feed.hide_customer_details))
        event.add("description", f"Booking {booking.reference} ({booking.get_status_display()})")
        event.add("status", _STATUS.get(booking.status, "CONFIRMED"))
        event.add("last-modified", booking.updated_at.astimezone(UTC))
        # Seconds since the booking was made: grows with every change, as RFC 5545 asks of SEQUENCE.
        event.add("sequence", int((booking.updated_at - booking.created_at).total_seconds()))
        calendar.add_component(event)
    return calendar.to_ical()
