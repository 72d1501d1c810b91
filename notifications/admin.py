"""Admin: read-only reminder and notification inlines for the booking admin, and the delivery logs.

The booking admin (scheduling/admin.py) adds the inlines:

    from notifications.admin import NotificationInline, ReminderInline
    class BookingAdmin(admin.ModelAdmin):
        inlines = [ReminderInline, NotificationInline]

Nothing here edits a row by hand: "retry failed" calls a service. Staff see only the rows of the
providers they manage.
"""

from django.contrib import admin, messages
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, BaseFormSet, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property

from notifications import selectors, services
from notifications.models import Notification, Reminder
from scheduling.formatting import local_time


class _ViewOnlyFormSet(BaseInlineFormSet):
    """Nothing in these inlines is ever saved, so a POST of the booking page that leaves them out (a
    script, a test, a form of its own) is not refused for a missing management form."""

    @cached_property
    def management_form(self):
        if self.is_bound and f"{self.prefix}-{TOTAL_FORM_COUNT}" not in self.data:
            count = len(self.get_queryset())
            data = {f"{self.prefix}-{TOTAL_FORM_COUNT}": count, f"{self.prefix}-{INITIAL_FORM_COUNT}": count}
            form = ManagementForm(data, auto_id=self.auto_id, prefix=self.prefix, renderer=self.renderer)
            form.full_clean()
            return form
        return BaseFormSet.management_form.func(self)


class _ProviderTimes:
    """Reminder and notification instants in their booking's provider zone, named (never bare UTC).
    Lists and inlines span providers in several zones, so each row uses its own."""

    @admin.display(description="Fires at (provider time)", ordering="fire_at")
    def fire_at_local(self, obj: Reminder) -> str:
        return self._local(obj.fire_at, obj)

    @admin.display(description="Sent at (provider time)", ordering="sent_at")
    def sent_at_local(self, obj) -> str:
        return self._local(obj.sent_at, obj)

    @admin.display(description="Created (provider time)", ordering="created_at")
    def created_at_local(self, obj) -> str:
        return self._local(obj.created_at, obj)

    @staticmethod
    def _local(value, obj) -> str:
        return local_time(value, obj.booking.provider_timezone) if value else "–"


class _ReadOnlyInline(_ProviderTimes, admin.TabularInline):
    formset = _ViewOnlyFormSet
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReminderInline(_ReadOnlyInline):
    model = Reminder
    fields = readonly_fields = (
        "channel",
        "lead_minutes",
        "fire_at_local",
        "status",
        "attempts",
        "sent_at_local",
        "last_error",
    )
    ordering = ("fire_at", "channel")


class NotificationInline(_ReadOnlyInline):
    model = Notification
    fields = readonly_fields = (
        "kind",
        "recipient",
        "channel",
        "address",
        "status",
        "attempts",
        "sent_at_local",
        "last_error",
    )
    ordering = ("created_at", "id")


class _DeliveryLogAdmin(_ProviderTimes, admin.ModelAdmin):
    list_select_related = ("booking", "booking__provider")
    date_hierarchy = "created_at"
    list_per_page = 100

    def get_queryset(self, request):
        return self.selector(user=request.user).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="Booking", ordering="booking__start_at")
    def booking_link(self, obj) -> str:
        return f"{obj.booking.reference} – {obj.booking.provider.name}"


@admin.register(Notification)
class NotificationAdmin(_DeliveryLogAdmin):
    selector = staticmethod(selectors.notifications_for_user)
    list_display = (
        "created_at_local",
        "kind",
        "recipient",
        "channel",
        "address",
        "status",
        "attempts",
        "sent_at_local",
        "booking_link",
        "last_error",
    )
    list_filter = ("status", "channel", "kind", "recipient")
    search_fields = ("address", "dedup_key", "booking__reference")
    actions = ["retry_failed"]

    @admin.action(description="Retry failed notifications", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = services.notifications_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed notification(s) queued again.", messages.SUCCESS)


@admin.register(Reminder)
class ReminderAdmin(_DeliveryLogAdmin):
    selector = staticmethod(selectors.reminders_for_user)
    list_display = (
        "fire_at_local",
        "channel",
        "lead_minutes",
        "status",
        "attempts",
        "sent_at_local",
        "booking_link",
        "last_error",
    )
    list_filter = ("status", "channel", "lead_minutes")
    search_fields = ("booking__reference", "booking__customer_email")
    actions = ["retry_failed"]

    @admin.action(description="Retry failed reminders (appointment not started)", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = services.reminders_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed reminder(s) queued again.", messages.SUCCESS)
