"""Create a booking from the admin in five numbered steps: provider, then the service (chosen for you
when the provider offers one), then date, then one of the engine's free slots, then an existing or a
new customer. `booking_create` decides; its refusals become form errors, a conflict with a link to the
booking it collided with (never an IntegrityError page).

An existing customer is found by a search (the "Search" button posts the form back with the slot and
what was typed kept, so it works without JavaScript): a handful of matches among the customers the
user may book again (`customers_to_book_again`, ADR 0009), never a list of everyone.
"""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from booking_site.db_router import replica_for_reads
from scheduling.admin.display import booking_label, zone_abbreviation
from scheduling.errors import InvalidInput, SlotUnavailable
from scheduling.formatting import duration
from scheduling.forms import BookingCreateForm
from scheduling.models import Booking, Service
from scheduling.selectors import customers_to_book_again, provider_slots, providers_for_user, services_offered_by
from scheduling.services import booking_create
from scheduling.services.inputs import OUT_OF_RANGE, in_supported_range

SLOT_PICKER_DAYS = 14
CUSTOMER_MATCHES = 20
STEPS = ["Provider", "Service", "Date", "Time", "Customer"]


class BookingCreateFlowMixin:
    """Replaces the booking admin's add view with the slot picker."""

    def add_view(self, request, form_url="", extra_context=None):
        """Provider, service, date, one of the engine's free slots, then an existing or new customer."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        providers = providers_for_user(user=request.user).filter(is_active=True)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New booking",
            "providers": providers,
            "step": 1,
            "steps": STEPS,
            "step_count": len(STEPS),
        }
        provider_id = request.GET.get("provider", "")
        if not provider_id:
            return TemplateResponse(request, "admin/scheduling/booking/create.html", context)
        if not provider_id.isdigit():
            raise Http404("No such provider.")
        provider = get_object_or_404(providers, pk=provider_id)
        services = services_offered_by(provider=provider)
        context.update(
            provider=provider,
            services=[{"service": s, "length": duration(s.duration_minutes)} for s in services],
            step=2,
        )
        service = self._chosen_service(request, services)
        if service is None:
            return TemplateResponse(request, "admin/scheduling/booking/create.html", context)
        zone = provider.timezone
        today = timezone.now().astimezone(zone).date()
        try:
            day = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            day = None
        if day is not None and not in_supported_range(day):
            raise BadRequest(OUT_OF_RANGE)  # near years 1 and 9999 the date arithmetic below overflows
        first = today if day is None or day < today + timedelta(days=SLOT_PICKER_DAYS) else day
        last = first + timedelta(days=SLOT_PICKER_DAYS - 1)
        free = provider_slots(provider=provider, service=service, first=first, last=last, using=replica_for_reads())
        counts: dict[date, int] = {}
        for slot in free:
            counts[slot.start.astimezone(zone).date()] = counts.get(slot.start.astimezone(zone).date(), 0) + 1
        base = f"{reverse('admin:scheduling_booking_add')}?provider={provider.pk}&service={service.pk}"
        context.update(
            service=service,
            zone=zone.key,
            step=3,
            day=day,
            today=today,
            base_url=base,
            strip=[
                {"date": d, "count": counts.get(d, 0), "url": f"{base}&date={d}", "selected": d == day}
                for d in (first + timedelta(days=n) for n in range(SLOT_PICKER_DAYS))
            ],
        )
        if day is None:
            return TemplateResponse(request, "admin/scheduling/booking/create.html", context)

        slots = [s for s in free if s.start.astimezone(zone).date() == day] if first <= day <= last else []
        posted = request.POST if request.method == "POST" else None
        searching = posted is not None and "_search" in posted
        query = posted.get("customer_search", "").strip() if posted is not None else ""
        matches = self._customer_matches(request, query, chosen=posted.get("customer", "") if posted else "")
        form = BookingCreateForm(
            None if searching else posted,
            # A search re-draws the form with what was chosen and typed so far, and no errors yet.
            initial={k: v for k, v in posted.items() if k in BookingCreateForm.base_fields} if searching else None,
            provider=provider,
            service=service,
            slots=slots,
            customers=customers_to_book_again(user=request.user),
            matches=matches[:CUSTOMER_MATCHES],
        )
        if posted is not None and not searching and form.is_valid():
            booking = self._create(request, form)
            if booking is not None:
                return HttpResponseRedirect(reverse("admin:scheduling_booking_change", args=[booking.pk]))
        context.update(
            step=4,
            form=form,
            slots=slots,
            zone_abbreviation=zone_abbreviation(day, zone),
            customer_query=query,
            customer_matches=len(matches[:CUSTOMER_MATCHES]),
            more_matches=len(matches) > CUSTOMER_MATCHES,
        )
        return TemplateResponse(request, "admin/scheduling/booking/create.html", context)

    @staticmethod
    def _customer_matches(request, query: str, *, chosen: str) -> list:
        """Up to CUSTOMER_MATCHES + 1 customers matching the search (one more tells "narrow it down"),
        and the one already chosen, so a re-drawn form still shows it."""
        matches = (
            list(customers_to_book_again(user=request.user, search=query)[: CUSTOMER_MATCHES + 1]) if query else []
        )
        if chosen.isdigit() and all(str(c.pk) != chosen for c in matches):
            matches = [*customers_to_book_again(user=request.user).filter(pk=chosen), *matches]
        return matches

    def _create(self, request, form: BookingCreateForm) -> Booking | None:
        try:
            booking = booking_create(
                service_id=form.service.pk,
                provider_id=form.provider.pk,
                start=form.cleaned_data["slot"],
                customer=form.customer_input(),
                notes=form.cleaned_data.get("notes", ""),
                language=form.cleaned_data.get("language") or settings.LANGUAGE_CODE,
            )
        except SlotUnavailable as exc:
            form.add_error(None, self._conflict_message(exc))
            return None
        except InvalidInput as exc:  # includes SlotNotOffered
            form.add_service_error(exc)
            return None
        self.log_addition(request, booking, [{"added": {}}])
        self.message_user(
            request, f"Booked {booking_label(booking)} ({booking.get_status_display().lower()}).", messages.SUCCESS
        )
        return booking

    @staticmethod
    def _chosen_service(request, services: list[Service]) -> Service | None:
        """The service asked for (one the provider offers, else 404); the only one when it offers
        one; None while the person has still to choose."""
        service_id = request.GET.get("service", "")
        if not service_id:
            return services[0] if len(services) == 1 else None
        chosen = next((s for s in services if str(s.pk) == service_id), None)
        if chosen is None:
            raise Http404("This provider offers no such active service.")
        return chosen

    @staticmethod
    def _conflict_message(exc: SlotUnavailable):
        other = Booking.objects.filter(pk=exc.conflicting_booking_id).first() if exc.conflicting_booking_id else None
        if other is None:
            return exc.detail
        return format_html(
            '{} It collides with <a href="{}">booking {}</a>.',
            exc.detail,
            reverse("admin:scheduling_booking_change", args=[other.pk]),
            booking_label(other),
        )
