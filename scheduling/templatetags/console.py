"""Template tags of the provider console (the Django admin)."""

from django import template
from django.urls import reverse
from django.utils import timezone

from scheduling import selectors_console
from scheduling.admin.display import booking_label, clock, status_badge, time_left
from scheduling.formatting import local_time, service_with_provider
from scheduling.models import Booking, BookingStatus

register = template.Library()


def _change_url(booking: Booking) -> str:
    return reverse("admin:scheduling_booking_change", args=[booking.pk])


def _pending_row(booking: Booking, now) -> dict:
    zone = booking.provider_timezone
    return {
        "booking": booking,
        "url": _change_url(booking),
        "label": booking_label(booking),
        "service": service_with_provider(booking.service.name, booking.provider.name),
        "customer": booking.customer_name,
        "starts": local_time(booking.start_at, zone),
        "hold_until": local_time(booking.hold_expires_at, zone),
        "hold_left": time_left(booking.hold_expires_at, now),
        "expired": booking.hold_expires_at <= now,
        "confirm_url": reverse("admin:scheduling_booking_transition", args=[booking.pk, "confirm"]),
        "decline_url": reverse("admin:scheduling_booking_cancel", args=[booking.pk]),
    }


def _day_row(booking: Booking) -> dict:
    zone = booking.provider_timezone
    return {
        "url": _change_url(booking),
        "reference": booking.reference,
        "span": f"{clock(booking.start_at, zone)}–{clock(booking.end_at, zone)}",
        "service": booking.service.name,
        "customer": booking.customer_name,
        "badge": status_badge(booking),
    }


def _cancellation_row(booking: Booking) -> dict:
    zone = booking.provider_timezone
    return {
        "url": _change_url(booking),
        "label": booking_label(booking),
        "service": service_with_provider(booking.service.name, booking.provider.name),
        "customer": booking.customer_name,
        "why": booking.get_cancel_reason_display() or "Cancelled",
        "when": local_time(booking.cancelled_at, zone),
    }


def _clash_row(booking: Booking) -> dict:
    return {
        "url": _change_url(booking),
        "label": booking_label(booking),
        "service": service_with_provider(booking.service.name, booking.provider.name),
        "customer": booking.customer_name,
    }


@register.inclusion_tag("admin/scheduling/includes/dashboard.html", takes_context=True)
def console_dashboard(context) -> dict:
    """The admin index's dashboard: pending requests, today and tomorrow per provider, recent
    cancellations, for the providers this user manages."""
    request = context["request"]
    now = timezone.now()
    board = selectors_console.console_dashboard(user=request.user, now=now)
    return {
        "csrf_token": context.get("csrf_token"),
        "can_change": request.user.has_perm("scheduling.change_booking"),
        "index_url": reverse("admin:index"),
        "pending": [_pending_row(b, now) for b in board.pending],
        "pending_url": f"{reverse('admin:scheduling_booking_changelist')}?status__exact={BookingStatus.PENDING}",
        "days": [
            {
                "provider": entry.provider,
                "zone": entry.provider.timezone.key,
                "agenda_url": reverse("admin:scheduling_provider_agenda_day", args=[entry.provider.pk]),
                "columns": [
                    ("Today", entry.today, [_day_row(b) for b in entry.bookings_today]),
                    ("Tomorrow", entry.tomorrow, [_day_row(b) for b in entry.bookings_tomorrow]),
                ],
            }
            for entry in board.days
        ],
        "cancellations": [_cancellation_row(b) for b in board.cancellations],
        "calendar_clashes": [_clash_row(b) for b in board.calendar_clashes],
        "calendar_clashes_url": f"{reverse('admin:scheduling_booking_changelist')}?calendar=clash",
        "cancellation_days": selectors_console.RECENT_CANCELLATIONS_DAYS,
    }
