"""Bookings in the console: the list, the detail page and the transitions (the create-a-booking
flow is in `booking_create`).

Every change of state goes through `scheduling.services` (never django-fsm's FSMAdminMixin, which
saves directly and skips the services' locks and side effects). A refused transition is an error
message, never a 500; the status is never a form field.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django_fsm import can_proceed

from calendars.selectors import bookings_overlapping_external_busy
from notifications.admin import NotificationInline, ReminderInline
from payments.selectors import with_payments
from scheduling.admin.booking_create import BookingCreateFlowMixin
from scheduling.admin.booking_list import (
    CalendarClashFilter,
    DaysFilter,
    ShowFilter,
    chosen_days,
    date_navigation,
    list_mode,
    show_tabs,
)
from scheduling.admin.booking_payments import BookingPaymentsMixin, PaymentFilter
from scheduling.admin.booking_reschedule import BookingRescheduleMixin
from scheduling.admin.display import booking_label, local_span, status_badge, utc_span
from scheduling.admin.scoping import LocalLabelMixin, NotYoursIs404Mixin
from scheduling.availability import local_dates_window
from scheduling.errors import DomainError
from scheduling.formatting import local_time, service_with_provider
from scheduling.forms import CancelBookingForm
from scheduling.models import Booking, BookingStatus
from scheduling.selectors import booking_cancellation_fee, bookings_for_user, providers_for_user
from scheduling.selectors_console import transitions_available
from scheduling.services import (
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_mark_no_show,
    booking_update_notes,
)

# name -> (service, what the message says was done)
TRANSITIONS = {
    "confirm": (booking_confirm, "Confirmed"),
    "cancel": (booking_cancel, "Cancelled"),
    "complete": (booking_complete, "Completed"),
    "no_show": (booking_mark_no_show, "Marked as a no-show"),
}
# The model's FSM transition behind each name: a button or action is offered only when it may run
# now (status and conditions, e.g. complete only once started); the service still has the last word.
FSM_METHODS = {"confirm": "confirm", "cancel": "cancel", "complete": "complete", "no_show": "mark_no_show"}
BUTTON_ORDER = ["confirm", "cancel", "complete", "no_show"]
ACTION_TRANSITIONS = {
    "confirm_selected": "confirm",
    "cancel_selected": "cancel",
    "complete_selected": "complete",
    "mark_no_show_selected": "no_show",
}
BUTTON_LABELS = {"confirm": "Confirm", "cancel": "Cancel…", "complete": "Complete", "no_show": "No-show"}


class BookingDateFilter(admin.SimpleListFilter):
    """Quick picks of days in the list's zone (see `BookingAdmin.changelist_zone`); the navigation bar
    above the list moves a day or a week at a time. "upcoming" and "past" stay for old links."""

    title = "date"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("tomorrow", "Tomorrow"), ("next7", "Next 7 days")]

    def queryset(self, request, queryset):
        now = timezone.now()
        zone = timezone.get_current_timezone()
        today = now.astimezone(zone).date()
        tomorrow = today + timedelta(days=1)
        match self.value():
            case "today":
                lo, hi = local_dates_window(today, today, zone)
            case "tomorrow":
                lo, hi = local_dates_window(tomorrow, tomorrow, zone)
            case "next7":
                lo, hi = now, local_dates_window(today, today + timedelta(days=6), zone)[1]
            case "upcoming":
                return queryset.filter(start_at__gte=now)
            case "past":
                return queryset.filter(start_at__lt=now)
            case _:
                return queryset
        return queryset.filter(start_at__gte=lo, start_at__lt=hi)


@admin.register(Booking)
class BookingAdmin(
    BookingPaymentsMixin,
    BookingRescheduleMixin,
    BookingCreateFlowMixin,
    LocalLabelMixin,
    NotYoursIs404Mixin,
    admin.ModelAdmin,
):
    # The status stays in the first few hundred pixels: it is what people scan the list for.
    list_display = ["reference", "when", "status_badge", "customer_name", "service", "provider", "payment_shown"]
    list_filter = [
        ShowFilter,
        "status",
        ("provider", admin.RelatedOnlyFieldListFilter),
        ("service", admin.RelatedOnlyFieldListFilter),
        PaymentFilter,
        CalendarClashFilter,
        BookingDateFilter,
        DaysFilter,
    ]
    # The booking's own contact details: the shared customer record may hold another provider's.
    search_fields = ["reference", "customer_name", "customer_email", "customer_phone"]
    list_select_related = ["provider", "service"]
    actions = ["confirm_selected", "cancel_selected", "complete_selected", "mark_no_show_selected"]
    inlines = [ReminderInline, NotificationInline]  # read-only, from the notifications app
    fieldsets = [
        (None, {"fields": ["reference", "status_badge", "service_link", "provider_link", "contact"]}),
        (
            "When",
            {"fields": ["time_in_provider_zone", "time_in_customer_zone", "time_in_utc", "hold", "calendar_clash"]},
        ),
        ("Cancellation terms", {"fields": ["cancellation_terms", "cancellation_outcome"]}),
        ("Payments", {"fields": ["payments_summary", "payments_table"]}),
        ("Rescheduling", {"fields": ["rescheduled_from_link", "rescheduled_to_link"]}),
        ("Notes", {"fields": ["notes"]}),
        ("Record", {"fields": ["confirmed", "created", "updated"]}),
    ]
    readonly_fields = [
        "reference", "status_badge", "service_link", "provider_link", "contact", "customer_record",
        "time_in_provider_zone", "time_in_customer_zone", "time_in_utc", "hold", "cancellation_terms",
        "cancellation_outcome", "rescheduled_from_link", "rescheduled_to_link", "confirmed", "created", "updated",
        "payments_summary", "payments_table", "calendar_clash",
    ]  # fmt: skip

    @admin.display(description="Provider's calendar")
    def calendar_clash(self, obj: Booking) -> str:
        """Imported busy time never cancels a booking (docs/decisions/0015-calendar-sync.md): this says so."""
        if (
            obj.pk is None
            or not bookings_overlapping_external_busy(provider_ids=[obj.provider_id]).filter(pk=obj.pk).exists()
        ):
            return "No event in the provider's linked calendars overlaps this booking."
        return format_html(
            '<strong class="calendar-clash">{}</strong> {}',
            "An event in the provider's own calendar overlaps this booking.",
            "The booking stands; check with the provider.",
        )

    def get_queryset(self, request):
        # The payment rows come in one query for a whole page (the list's payment column, the booking page).
        return with_payments(super().get_queryset(request) & bookings_for_user(user=request.user))

    def get_fieldsets(self, request, obj=None):
        if not request.user.is_superuser:
            return self.fieldsets
        (name, options), *rest = self.fieldsets
        return [(name, {**options, "fields": [*options["fields"], "customer_record"]}), *rest]

    def has_delete_permission(self, request, obj=None):
        return False  # a booking is cancelled, never deleted: its history and policy snapshot stay

    def object_label(self, obj: Booking) -> str:
        return booking_label(obj)

    def save_model(self, request, obj, form, change):
        # Only the notes are editable; the service writes nothing else, so a transition made
        # since the page was drawn is never undone.
        booking_update_notes(booking_id=obj.pk, notes=form.cleaned_data.get("notes", ""))
        self._remember_label(request, obj)

    # --- list -----------------------------------------------------------------------------------

    def changelist_zone(self, request) -> tuple[ZoneInfo, bool]:
        """The zone whose days the date filter and hierarchy use, and whether the list spans several.

        The chosen provider's zone, or the one zone all the user's providers share; UTC otherwise.
        """
        providers = providers_for_user(user=request.user)
        chosen = request.GET.get("provider__id__exact", "")
        if chosen.isdigit():
            providers = providers.filter(pk=chosen)
        zones = list(providers.order_by().values_list("timezone", flat=True).distinct()[:2])
        return (zones[0], False) if len(zones) == 1 else (ZoneInfo("UTC"), len(zones) > 1)

    def get_ordering(self, request):
        """Time order: soonest first for what is coming (and within chosen days), latest first else."""
        if list_mode(request.GET) == "upcoming" or chosen_days(request.GET) is not None:
            return ["start_at", "pk"]
        return ["-start_at", "-pk"]

    def changelist_view(self, request, extra_context=None):
        zone, mixed = self.changelist_zone(request)
        context = {
            "changelist_zone": zone.key,
            "changelist_zone_mixed": mixed,
            "show_tabs": show_tabs(request),
            "date_nav": date_navigation(request, zone),
            **(extra_context or {}),
        }
        with timezone.override(zone):
            response = super().changelist_view(request, context)
            if isinstance(response, TemplateResponse):
                response.render()  # the date hierarchy reads the active zone while rendering
        return response

    @admin.display(description="Customer", ordering="customer_name")
    def customer_name(self, obj: Booking) -> str:
        return obj.customer_name

    @admin.display(description="When (provider's zone)", ordering="start_at")
    def when(self, obj: Booking) -> str:
        return local_span(obj.start_at, obj.end_at, obj.provider_timezone)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Booking):
        return status_badge(obj)

    # --- detail page ----------------------------------------------------------------------------

    @admin.display(description="Service")
    def service_link(self, obj: Booking):
        """The service booked; its length, price and terms here are the booking's own snapshot."""
        url = reverse("admin:scheduling_service_change", args=[obj.service_id])
        return format_html('<a href="{}">{}</a>', url, obj.service.name)

    @admin.display(description="Provider")
    def provider_link(self, obj: Booking):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?date={}">agenda</a>',
            reverse("admin:scheduling_provider_change", args=[obj.provider_id]),
            obj.provider.name,
            reverse("admin:scheduling_provider_agenda_day", args=[obj.provider_id]),
            obj.start_at.astimezone(obj.provider_timezone).date(),
        )

    @admin.display(description="Customer")
    def contact(self, obj: Booking):
        """The details given with this booking (never the shared customer record's)."""
        phone = f" · {obj.customer_phone}" if obj.customer_phone else ""
        return format_html("{} &lt;{}&gt;{}", obj.customer_name, obj.customer_email, phone)

    @admin.display(description="Customer record")
    def customer_record(self, obj: Booking):
        """Superusers only (`get_fieldsets`): the identity behind the booking, which may hold what
        was typed for another provider (ADR 0009)."""
        url = reverse("admin:scheduling_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">Customer {}</a>', url, obj.customer_id)

    @admin.display(description="Provider's zone")
    def time_in_provider_zone(self, obj: Booking) -> str:
        return local_span(obj.start_at, obj.end_at, obj.provider_timezone)

    @admin.display(description="Customer's zone")
    def time_in_customer_zone(self, obj: Booking) -> str:
        return local_span(obj.start_at, obj.end_at, obj.customer_timezone)

    @admin.display(description="UTC")
    def time_in_utc(self, obj: Booking) -> str:
        return utc_span(obj.start_at, obj.end_at)

    @admin.display(description="Hold")
    def hold(self, obj: Booking) -> str:
        if obj.status != BookingStatus.PENDING or obj.hold_expires_at is None:
            return "—"
        state = "expired" if obj.hold_expires_at <= timezone.now() else "held"
        return f"Slot {state} until {local_time(obj.hold_expires_at, obj.provider_timezone)}; confirm before then."

    @admin.display(description="Terms")
    def cancellation_terms(self, obj: Booking):
        money = f"{obj.price} {obj.currency}"
        late = obj.free_cancel_until + timedelta(microseconds=1)
        fee = booking_cancellation_fee(booking=obj, now=late)  # the services' own fee rule
        if not fee:
            return format_html("Price {}. Cancelling is always free.", money)
        return format_html(
            "Price {}. Free cancellation until {} (for the customer: {}). After that a cancellation by "
            "the customer costs {} {}; a cancellation by the provider is always free.",
            money,
            local_time(obj.free_cancel_until, obj.provider_timezone),
            local_time(obj.free_cancel_until, obj.customer_timezone),
            fee,
            obj.currency,
        )

    @admin.display(description="Outcome")
    def cancellation_outcome(self, obj: Booking) -> str:
        if obj.status != BookingStatus.CANCELLED:
            return "Not cancelled."
        when = local_time(obj.cancelled_at, obj.provider_timezone) if obj.cancelled_at else "—"
        return (
            f"{obj.get_cancel_reason_display() or 'Cancelled'} on {when}; fee {obj.cancellation_fee} "
            f"{obj.currency}, refund {obj.refund_amount} {obj.currency}."
        )

    @admin.display(description="Rescheduled from")
    def rescheduled_from_link(self, obj: Booking):
        return self._booking_link(obj.rescheduled_from)

    @admin.display(description="Rescheduled to")
    def rescheduled_to_link(self, obj: Booking):
        return self._booking_link(Booking.objects.filter(rescheduled_from=obj).first())

    @staticmethod
    def _booking_link(other: Booking | None):
        if other is None:
            return "—"
        url = reverse("admin:scheduling_booking_change", args=[other.pk])
        return format_html('<a href="{}">{}</a>', url, booking_label(other))

    @admin.display(description="Confirmed at")
    def confirmed(self, obj: Booking) -> str:
        return local_time(obj.confirmed_at, obj.provider_timezone) if obj.confirmed_at else "—"

    @admin.display(description="Created")
    def created(self, obj: Booking) -> str:
        return local_time(obj.created_at, obj.provider_timezone)

    @admin.display(description="Updated")
    def updated(self, obj: Booking) -> str:
        return local_time(obj.updated_at, obj.provider_timezone)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        booking = self.get_object(request, unquote(object_id))
        names = [n for n in BUTTON_ORDER if self.has_change_permission(request, booking) and self.may_run(booking, n)]
        buttons = [self._button(booking, name) for name in names]
        if self.may_reschedule(request, booking):
            buttons.append(self.reschedule_button(booking))
        buttons.extend(self.payment_buttons(request, booking))
        context = {"transition_buttons": buttons, "show_save_and_add_another": False, **(extra_context or {})}
        # Any datetime the page shows without our own formatting (an inline's, say) reads in the
        # provider's zone rather than in UTC.
        with timezone.override(booking.provider_timezone):
            response = super().change_view(request, object_id, form_url, context)
            if isinstance(response, TemplateResponse):
                response.render()
        return response

    @staticmethod
    def may_run(booking: Booking, name: str) -> bool:
        """Whether the transition is legal now: its source status and conditions (has it started?),
        and for confirm a hold still running (`booking_confirm` refuses an expired one)."""
        if name == "confirm" and booking.hold_expires_at is not None and booking.hold_expires_at <= timezone.now():
            return False
        return can_proceed(getattr(booking, FSM_METHODS[name]))

    @staticmethod
    def _button(booking: Booking, name: str) -> dict:
        if name == "cancel":  # asks for a reason first
            url = reverse("admin:scheduling_booking_cancel", args=[booking.pk])
        else:
            url = reverse("admin:scheduling_booking_transition", args=[booking.pk, name])
        return {"name": name, "label": BUTTON_LABELS[name], "url": url, "post": name != "cancel"}

    # --- transitions ----------------------------------------------------------------------------

    def _transition(self, request, booking: Booking, name: str, **kwargs) -> bool:
        """Run one service; a refusal becomes an error message naming the booking."""
        service, done = TRANSITIONS[name]
        try:
            updated = service(booking_id=booking.pk, **kwargs)
        except DomainError as exc:
            self.message_user(request, f"{booking_label(booking)}: {exc.detail}", messages.ERROR)
            return False
        self.log_change(request, updated, f"{done} (through the booking service).")
        return True

    def _transition_many(self, request, queryset, name: str, **kwargs) -> None:
        done = [
            b for b in queryset.select_related("provider", "service") if self._transition(request, b, name, **kwargs)
        ]
        if done:
            references = ", ".join(b.reference for b in done)
            count = f"{len(done)} booking{'s' if len(done) != 1 else ''}"
            self.message_user(request, f"{TRANSITIONS[name][1]} {count}: {references}.", messages.SUCCESS)

    def get_actions(self, request):
        """A transition's action is offered only while some booking of the user's could take it
        (complete and no-show once one has started); each booking is still checked by the service."""
        actions = super().get_actions(request)
        if any(name in actions for name in ACTION_TRANSITIONS):
            available = transitions_available(user=request.user)
            for name, transition in ACTION_TRANSITIONS.items():
                if transition not in available:
                    actions.pop(name, None)
        return actions

    @admin.action(description="Confirm selected bookings", permissions=["change"])
    def confirm_selected(self, request, queryset):
        self._transition_many(request, queryset, "confirm")

    @admin.action(description="Complete selected bookings", permissions=["change"])
    def complete_selected(self, request, queryset):
        self._transition_many(request, queryset, "complete")

    @admin.action(description="Mark selected bookings as no-shows", permissions=["change"])
    def mark_no_show_selected(self, request, queryset):
        self._transition_many(request, queryset, "no_show")

    @admin.action(description="Cancel selected bookings…", permissions=["change"])
    def cancel_selected(self, request, queryset):
        """An intermediate page asks for the reason, like Django's delete confirmation."""
        form = CancelBookingForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._transition_many(request, queryset, "cancel", reason=form.cleaned_data["reason"])
            return None  # back to the list
        bookings = list(queryset.select_related("provider", "service"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Cancel bookings",
            "form": form,
            "rows": [self._cancel_row(b) for b in bookings],
            "bookings": bookings,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/scheduling/booking/cancel_selected.html", context)

    def _cancel_row(self, booking: Booking) -> dict:
        return {
            "booking": booking,
            "label": booking_label(booking),
            "service": service_with_provider(booking.service.name, booking.provider.name),
            "customer": booking.customer_name,
            "badge": status_badge(booking),
            "terms": self.cancellation_terms(booking),
            "url": reverse("admin:scheduling_booking_change", args=[booking.pk]),
        }

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                wrap(self.transition_view),
                name="scheduling_booking_transition",
            ),
            path("<path:object_id>/cancel/", wrap(self.cancel_view), name="scheduling_booking_cancel"),
            *self.reschedule_urls(),
            *self.payment_urls(),
            *super().get_urls(),
        ]

    def _booking_for_change(self, request, object_id) -> Booking:
        booking = self.get_object(request, unquote(object_id))  # 404 when not one of yours
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        return booking

    def transition_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in TRANSITIONS or name == "cancel":
            raise Http404("No such transition.")
        booking = self._booking_for_change(request, object_id)
        if self._transition(request, booking, name):
            self.message_user(request, f"{TRANSITIONS[name][1]} {booking_label(booking)}.", messages.SUCCESS)
        return self._back(request, booking)

    @staticmethod
    def _back(request, booking: Booking) -> HttpResponseRedirect:
        """To the page the person acted from (the dashboard, say) when it is ours, else the booking."""
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return HttpResponseRedirect(target)
        return HttpResponseRedirect(reverse("admin:scheduling_booking_change", args=[booking.pk]))

    def cancel_view(self, request, object_id):
        booking = self._booking_for_change(request, object_id)
        form = CancelBookingForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            if self._transition(request, booking, "cancel", reason=form.cleaned_data["reason"]):
                self.message_user(request, f"Cancelled {booking_label(booking)}.", messages.SUCCESS)
            return self._back(request, booking)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Cancel booking {booking.reference}",
            "booked": service_with_provider(booking.service.name, booking.provider.name),
            "original": booking,
            "object_label": booking_label(booking),
            "form": form,
            "rows": [self._cancel_row(booking)],
            "deadline_passed": timezone.now() > booking.free_cancel_until,
            "customer_fee_now": booking_cancellation_fee(booking=booking),
            "free_until": local_time(booking.free_cancel_until, booking.provider_timezone),
        }
        return TemplateResponse(request, "admin/scheduling/booking/cancel.html", context)
