"""Customers: superusers only.

A customer record is the identity behind bookings, shared by every provider the customer has booked
and matched by email: its name, phone and zone were typed for whichever booking made it, possibly
another provider's. A provider's staff see the details given with each of their bookings instead
(ADR 0009), so this admin answers 403 to them whatever permissions their group holds.
"""

from django.contrib import admin

from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.forms import CustomerForm
from scheduling.models import Customer


@admin.register(Customer)
class CustomerAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ["name", "email", "phone", "timezone"]
    search_fields = ["name", "email", "phone"]
    fields = ["name", "email", "phone", "timezone", "user"]
    raw_id_fields = ["user"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
