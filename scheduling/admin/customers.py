"""Customers, as far as a staff user's providers have booked them."""

from django.contrib import admin

from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.forms import CustomerForm
from scheduling.models import Customer
from scheduling.selectors import bookings_for_user


@admin.register(Customer)
class CustomerAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ["name", "email", "phone", "timezone"]
    search_fields = ["name", "email", "phone"]
    fields = ["name", "email", "phone", "timezone", "user"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # Staff see the customers who have booked one of their providers, nobody else.
        return queryset.filter(pk__in=bookings_for_user(user=request.user).values("customer_id"))
