"""A booking's payments in the console: the "Payments" section of its page, the "Refund…" and "Mark
paid" buttons, the list's payment filter and column.

Money moves only through `payments.services` (`payment_refund`, `payment_mark_paid`), which lock and
check; a refusal is an error message, like a refused transition. Both need change permission on a
booking of one of the user's providers, as the transition buttons do.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from payments.selectors import (
    NONE,
    PAYMENT_STATUSES,
    booking_payments,
    bookings_with_payment_state,
    payment_summary,
    pending_at_venue_charges,
    refundable_amount,
)
from payments.services import payment_mark_paid, payment_refund
from scheduling.admin.display import booking_label
from scheduling.errors import DomainError
from scheduling.formatting import local_time
from scheduling.models import Booking, PaymentMode

STATUS_LABELS = dict(PAYMENT_STATUSES)
MODE_LABELS = {PaymentMode.NONE: "no payment taken", PaymentMode.ONLINE: "online", PaymentMode.AT_VENUE: "at the venue"}


class PaymentFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "payment"

    def lookups(self, request, model_admin):
        return [
            ("awaiting", "Awaiting payment online"),
            ("paid", "Paid"),
            ("refunded", "Refunded / partially refunded"),
            ("at_venue", "Unpaid at the venue"),
            ("none", "No payment"),
        ]

    def queryset(self, request, queryset):
        return bookings_with_payment_state(queryset, self.value()) if self.value() else queryset


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    # What was refundable when the form was shown: a second submission (or a colleague's refund
    # meanwhile) no longer matches, and the service refuses instead of refunding twice.
    refundable = forms.DecimalField(max_digits=10, decimal_places=2, widget=forms.HiddenInput)


class BookingPaymentsMixin:
    """The booking admin's payment pieces (its list prefetches the payment rows: one query a page)."""

    @admin.display(description="Payment")
    def payment_shown(self, obj: Booking) -> str:
        status = payment_summary(obj).status
        return "—" if status == NONE else STATUS_LABELS[status]

    @admin.display(description="Summary")
    def payments_summary(self, obj: Booking) -> str:
        summary = payment_summary(obj)
        mode = MODE_LABELS.get(summary.mode, summary.mode)
        return (
            f"{STATUS_LABELS[summary.status]} ({mode}). Due {summary.amount_due}, paid {summary.amount_paid}, "
            f"refunded {summary.amount_refunded} {summary.currency}."
        )

    @admin.display(description="Payments")
    def payments_table(self, obj: Booking):
        rows = booking_payments(obj)
        if not rows:
            return "None."
        zone = obj.provider_timezone
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p.get_kind_display(),
                    p.amount,
                    p.currency,
                    p.get_status_display(),
                    p.get_gateway_display(),
                    p.reference or "—",
                    p.get_reason_display(),
                    p.failure_reason or "—",
                    local_time(p.created_at, zone),
                )
                for p in rows
            ),
        )
        return format_html(
            '<table class="booking-payments"><thead><tr><th>Kind</th><th>Amount</th><th>Status</th>'
            "<th>Gateway</th><th>Reference</th><th>Reason</th><th>Failure</th><th>When</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    # --- buttons and their pages ----------------------------------------------------------------

    def payment_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/refund/", wrap(self.refund_view), name="scheduling_booking_refund"),
            path("<path:object_id>/mark-paid/", wrap(self.mark_paid_view), name="scheduling_booking_mark_paid"),
        ]

    def payment_buttons(self, request, booking: Booking) -> list[dict]:
        if not self.has_change_permission(request, booking):
            return []
        buttons = []
        if refundable_amount(booking) > 0:
            url = reverse("admin:scheduling_booking_refund", args=[booking.pk])
            buttons.append({"name": "refund", "label": "Refund…", "url": url, "post": False})
        if pending_at_venue_charges(booking):
            url = reverse("admin:scheduling_booking_mark_paid", args=[booking.pk])
            buttons.append({"name": "mark_paid", "label": "Mark paid", "url": url, "post": True})
        return buttons

    def _booking_for_payment(self, request, object_id) -> Booking:
        booking = self.get_object(request, unquote(object_id))  # 404 when not one of yours
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        return booking

    def refund_view(self, request, object_id):
        booking = self._booking_for_payment(request, object_id)
        change_url = reverse("admin:scheduling_booking_change", args=[booking.pk])
        refundable = refundable_amount(booking)
        initial = {"amount": refundable, "refundable": refundable}
        form = RefundForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                payment_refund(
                    booking_id=booking.pk,
                    amount=amount,
                    user=request.user,
                    expected_refundable=form.cleaned_data["refundable"],
                )
            except DomainError as exc:
                self.message_user(request, f"{booking_label(booking)}: {exc.detail}", messages.ERROR)
            else:
                done = f"Refunded {amount} {booking.currency} of {booking_label(booking)}"
                self.log_change(request, booking, f"{done} (through the payment service).")
                self.message_user(request, f"{done}; the gateway is called in the background.", messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Refund booking {booking.reference}",
            "original": booking,
            "object_label": booking_label(booking),
            "form": form,
            "refundable": refundable,
            "summary": self.payments_summary(booking),
        }
        return TemplateResponse(request, "admin/scheduling/booking/refund.html", context)

    def mark_paid_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        booking = self._booking_for_payment(request, object_id)
        charges = pending_at_venue_charges(booking)
        if not charges:  # paid or cancelled since the page was drawn
            self.message_user(request, f"{booking_label(booking)}: nothing is due at the venue.", messages.ERROR)
        for charge in charges:
            try:
                payment_mark_paid(payment_id=charge.pk, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{booking_label(booking)}: {exc.detail}", messages.ERROR)
                break
            done = f"Marked {charge.amount} {charge.currency} paid at the venue for {booking_label(booking)}"
            self.log_change(request, booking, f"{done} (through the payment service).")
            self.message_user(request, f"{done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:scheduling_booking_change", args=[booking.pk]))
