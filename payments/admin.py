"""Payments in the console: the ledger of charges and refunds, and the gateway calls still owed.

Both are read-only: money moves only through `payments.services` (the booking page's "Refund…" and
"Mark paid", scheduling/admin/booking_payments.py). Staff see the rows of their providers' bookings
(`scheduling.selectors.bookings_for_user`); a refund stuck on a gateway that is down shows here as a
pending call with its attempts, next attempt and last error.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from payments.models import GatewayCall, Payment
from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.formatting import local_time
from scheduling.selectors import bookings_for_user


class _ReadOnlyAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Booking", ordering="booking__reference")
    def booking_link(self, obj):
        booking = obj.booking if isinstance(obj, Payment) else obj.payment.booking
        url = reverse("admin:scheduling_booking_change", args=[booking.pk])
        return format_html('<a href="{}">{}</a>', url, booking.reference)


@admin.register(Payment)
class PaymentAdmin(_ReadOnlyAdmin):
    list_display = ["booking_link", "kind", "amount", "currency", "status", "gateway", "reference", "created"]
    list_filter = ["status", "kind", "gateway", "reason"]
    search_fields = ["reference", "booking__reference"]
    list_select_related = ["booking", "booking__provider"]
    fields = [
        "booking_link", "kind", "amount", "currency", "status", "gateway", "reference", "refund_of", "reason",
        "failure_reason", "recorded_by", "created", "succeeded",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        bookings = bookings_for_user(user=request.user)
        return super().get_queryset(request).filter(booking__in=bookings).select_related(*self.list_select_related)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Payment) -> str:
        return local_time(obj.created_at, obj.booking.provider_timezone)

    @admin.display(description="Succeeded")
    def succeeded(self, obj: Payment) -> str:
        return local_time(obj.succeeded_at, obj.booking.provider_timezone) if obj.succeeded_at else "—"


@admin.register(GatewayCall)
class GatewayCallAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "booking_link", "action", "status", "attempts", "next_attempt", "last_error"]
    list_filter = ["status", "action"]
    search_fields = ["payment__reference", "payment__booking__reference"]
    list_select_related = ["payment", "payment__booking"]
    fields = ["booking_link", "payment", "action", "status", "attempts", "next_attempt", "last_error", "done_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        bookings = bookings_for_user(user=request.user)
        queryset = super().get_queryset(request).filter(payment__booking__in=bookings)
        return queryset.select_related(*self.list_select_related)

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj: GatewayCall) -> str:
        if obj.status == GatewayCall.Status.DONE:
            return "—"
        return local_time(obj.next_attempt_at, obj.payment.booking.provider_timezone)
