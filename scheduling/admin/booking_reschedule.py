"""Reschedule a booking from the console: the free times of its service with its provider, a day or a
week at a time in the provider's zone, then `booking_reschedule` (the API's own service) decides.

Moving a booking cancels it and books the new time, so it needs both change and add permission on
bookings, on a booking of one of the user's providers.
"""

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from booking_site.db_router import replica_for_reads
from scheduling.admin.display import booking_label, clock, local_span
from scheduling.availability import Slot
from scheduling.errors import DomainError, SlotUnavailable
from scheduling.formatting import service_with_provider
from scheduling.models import Booking
from scheduling.selectors import provider_slots
from scheduling.services import booking_reschedule
from scheduling.services.inputs import OUT_OF_RANGE, in_supported_range

SPANS = {"day": 1, "week": 7}


class BookingRescheduleMixin:
    """Adds the booking page's "Reschedule…" button and its page to the booking admin."""

    def reschedule_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/reschedule/", wrap(self.reschedule_view), name="scheduling_booking_reschedule"),
        ]

    def may_reschedule(self, request, booking: Booking) -> bool:
        return booking.is_live and self.has_change_permission(request, booking) and self.has_add_permission(request)

    @staticmethod
    def reschedule_button(booking: Booking) -> dict:
        url = reverse("admin:scheduling_booking_reschedule", args=[booking.pk])
        return {"name": "reschedule", "label": "Reschedule…", "url": url, "post": False}

    def reschedule_view(self, request, object_id):
        booking = self.get_object(request, unquote(object_id))  # 404 when not one of yours
        if not (self.has_change_permission(request, booking) and self.has_add_permission(request)):
            raise PermissionDenied
        change_url = reverse("admin:scheduling_booking_change", args=[booking.pk])
        if not booking.is_live:
            self.message_user(
                request,
                f"{booking_label(booking)} is {booking.get_status_display().lower()}; only a pending or "
                "confirmed booking can be moved.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        error = None
        if request.method == "POST":
            moved, error = self._reschedule(request, booking)
            if moved is not None:
                return HttpResponseRedirect(reverse("admin:scheduling_booking_change", args=[moved.pk]))
        return TemplateResponse(
            request, "admin/scheduling/booking/reschedule.html", self._picker_context(request, booking, error)
        )

    def _reschedule(self, request, booking: Booking) -> tuple[Booking | None, str | None]:
        """Run the service; its refusal (taken, not offered, no longer live) is the page's error."""
        try:
            start = datetime.fromisoformat(request.POST.get("start", ""))
        except ValueError:
            return None, "Choose one of the free times."
        if start.tzinfo is None:
            return None, "Choose one of the free times."
        try:
            moved = booking_reschedule(booking_id=booking.pk, start=start)
        except SlotUnavailable as exc:
            return None, self._taken_message(exc)
        except DomainError as exc:
            return None, exc.detail
        self.log_change(request, booking, f"Rescheduled to {booking_label(moved)} (through the booking service).")
        self.log_addition(request, moved, f"Rescheduled from {booking_label(booking)} (through the booking service).")
        self.message_user(request, f"Moved {booking_label(booking)} to {booking_label(moved)}.", messages.SUCCESS)
        return moved, None

    @staticmethod
    def _taken_message(exc: SlotUnavailable):
        other = Booking.objects.filter(pk=exc.conflicting_booking_id).first() if exc.conflicting_booking_id else None
        if other is None:
            return f"That time was taken meanwhile: {exc.detail}"
        return format_html(
            'That time was taken meanwhile: {} It collides with <a href="{}">booking {}</a>.',
            exc.detail,
            reverse("admin:scheduling_booking_change", args=[other.pk]),
            booking_label(other),
        )

    def _picker_context(self, request, booking: Booking, error) -> dict:
        zone = booking.provider_timezone
        today = timezone.now().astimezone(zone).date()
        span = request.GET.get("span", "week")
        span = span if span in SPANS else "week"
        first = self._first_day(request, booking, today)
        last = first + timedelta(days=SPANS[span] - 1)
        free = provider_slots(
            provider=booking.provider,
            service=booking.service,
            first=first,
            last=last,
            exclude_booking_id=booking.pk,
            using=replica_for_reads(),
        )
        base = reverse("admin:scheduling_booking_reschedule", args=[booking.pk])
        step = timedelta(days=SPANS[span])
        earlier = max(first - step, today)
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Reschedule booking {booking.reference}",
            "original": booking,
            "object_label": booking_label(booking),
            "booked": service_with_provider(booking.service.name, booking.provider.name),
            "current": local_span(booking.start_at, booking.end_at, zone),
            "zone": zone.key,
            "span": span,
            "first": first,
            "last": last,
            "days": self._days(free, booking, first, last),
            "chosen": request.POST.get("start", ""),
            "error": error,
            "earlier_url": f"{base}?span={span}&date={earlier}" if first > today else "",
            "later_url": f"{base}?span={span}&date={first + step}",
            "change_url": reverse("admin:scheduling_booking_change", args=[booking.pk]),
        }

    @staticmethod
    def _first_day(request, booking: Booking, today: date) -> date:
        """The day asked for (never before today in the provider's zone); by default the booking's own
        day, or today when that has passed."""
        try:
            day = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            day = booking.start_at.astimezone(booking.provider_timezone).date()
        if not in_supported_range(day):
            raise BadRequest(OUT_OF_RANGE)
        return max(day, today)

    @staticmethod
    def _days(free: list[Slot], booking: Booking, first: date, last: date) -> list[dict]:
        zone = booking.provider_timezone
        days = {first + timedelta(days=n): [] for n in range((last - first).days + 1)}
        for slot in free:
            local = slot.start.astimezone(zone).date()
            if local in days:
                days[local].append(
                    {
                        "value": slot.start.isoformat(),
                        "label": f"{clock(slot.start, zone)}–{clock(slot.end, zone)}",
                        "current": slot.start == booking.start_at,
                    }
                )
        return [{"date": day, "slots": slots} for day, slots in days.items()]
